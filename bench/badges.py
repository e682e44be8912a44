"""Badge PDFs: one badge against a minimal WeasyPrint page, over HTTP, memory over many renders, a 1,000-badge batch.

Usage: python bench/badges.py [--renders 1000] [--requests 40] [--batch 1000] [--processes N]
                              [--parts single,http,batch]

single  One A6 badge rendered by WeasyPrint (never from the cache; a different participant each
        time), median ms, as a ratio to WeasyPrint rendering a one-line page in the same process;
        the two alternate in rounds, so that the drift of a shared machine hits both. Then the
        resident memory of the process before, halfway through and after `--renders` more badges.
http    The whole HTTP request for a participant's badge.pdf, from one gunicorn worker: the first
        request of each of `--requests` participants (the badge is rendered) and the second (from
        the cache), median ms, next to the trivial endpoint of the same worker.
batch   `--batch` badges on A4 sheets, built the way the organizer's badges.pdf builds them
        (service.batch, then badge_sheets_pdf into a temporary file, with its default process
        pool): seconds, and the peak memory of the process and its pool together (the largest sum
        of their proportional set sizes, sampled every 50 ms) and of the largest of them.
Each part runs in a fresh process, on a fresh SQLite database with the demo event. Exits non-zero
when a target is missed.
"""
import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from datetime import date
from statistics import median

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TARGET_RATIO = 2.0
TARGET_REQUEST_MS = 50
TARGET_BATCH_SECONDS = 10
TARGET_BATCH_MB = 400
SLUG = "asyl-jurek-2021"
SURNAMES = ["Сәрсенбаева", "Нұрмұхамбетова-Қожахметова", "Жұмабеков", "Ли", "Оспанов", "Әбілқасымова"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--processes", type=int, help="processes for the batch (default: the app's, one per core)")
    parser.add_argument("--parts", default="single,http,batch", help="the parts to run, comma-separated")
    args = parser.parse_args()
    parts = args.parts.split(",")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    good = []
    if "single" in parts:
        good.append(single(args.renders))
    if "http" in parts:
        good.append(http(args.requests))
    if "batch" in parts:
        good.append(batch(args.batch, args.processes))
    sys.exit(0 if all(good) else 1)


def single(renders):
    badge_ms, minimal_ms, cached_ms, before, halfway, after = in_process(_single, renders)
    ratio = badge_ms / minimal_ms
    print(f"one A6 badge rendered: {badge_ms:.1f} ms; minimal one-page document {minimal_ms:.1f} ms; "
          f"ratio {ratio:.2f}x (target <= {TARGET_RATIO}x); from the cache {cached_ms:.2f} ms")
    print(f"RSS before / after {renders // 2} / after {renders} single renders: {before:.0f} / {halfway:.0f} / "
          f"{after:.0f} MB ({after - before:+.0f} MB, {after - halfway:+.0f} MB in the second half)")
    return ratio <= TARGET_RATIO


def http(requests):
    rendered_ms, cached_ms, trivial_ms = in_process(_http, requests)
    print(f"GET badge.pdf over HTTP (gunicorn, 1 worker), median of {requests}: {rendered_ms:.1f} ms rendered "
          f"(target < {TARGET_REQUEST_MS} ms), {cached_ms:.1f} ms from the cache; trivial endpoint {trivial_ms:.1f} ms")
    return rendered_ms < TARGET_REQUEST_MS


def batch(people, processes):
    seconds, pss, rss, largest, size = in_process(_batch, people, processes)
    print(f"batch of {people} badges on A4 sheets ({processes or 'default'} processes): {seconds:.1f} s, "
          f"{size / 1e6:.1f} MB PDF; peak memory of all its processes {pss:.0f} MB (PSS; their RSS summed "
          f"{rss:.0f} MB), of the largest {largest:.0f} MB "
          f"(targets < {TARGET_BATCH_SECONDS} s, < {TARGET_BATCH_MB} MB)")
    return seconds < TARGET_BATCH_SECONDS and pss < TARGET_BATCH_MB


def in_process(function, *args):
    """Run function(*args, results) in a fresh process and return what it put in `results`."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=function, args=(*args, results))
    child.start()
    result = results.get()
    child.join()
    return result


def _single(renders, results):
    from weasyprint import HTML

    from eventreg.badges.pdf import Folders, badge_content, badge_pdf, render
    from eventreg.extensions import db
    from eventreg.registration.models import Registration

    with tempfile.TemporaryDirectory(prefix="eventreg-bench-") as folder:
        app = make_app(folder, 60)
        with app.app_context():
            registrations = db.session.execute(db.select(Registration)).scalars().all()
            folders = Folders.of(app)
            contents = [badge_content(r) for r in registrations]
            turn = iter(range(10 ** 9))

            def one_badge():
                render(folders, "badges/badges.html", [contents[next(turn) % len(contents)]], "a6")

            def minimal():
                HTML(string="<!doctype html><p>Hello</p>").write_pdf()

            for _ in range(3):  # warm up both (fonts, stylesheets)
                one_badge()
                minimal()
            badge_ms, minimal_ms = [], []
            for _ in range(7):
                badge_ms.append(timed(one_badge, 10))
                minimal_ms.append(timed(minimal, 10))
            cached_ms = timed(lambda: badge_pdf(registrations[0]), 20)
            before = halfway = rss_mb()
            for number in range(renders):
                one_badge()
                if number + 1 == renders // 2:
                    halfway = rss_mb()
            after = rss_mb()
    results.put((median(badge_ms), median(minimal_ms), cached_ms, before, halfway, after))


def _http(requests, results):
    from bench._harness import Database, Gunicorn, get

    database = Database("sqlite")
    server = None
    try:
        os.environ.update(database.env)
        from eventreg import create_app
        from eventreg.events.service import get_event_by_slug
        from eventreg.extensions import db
        from eventreg.registration.models import Registration

        app = create_app()
        with app.app_context():
            event = get_event_by_slug(SLUG)
            add_people(event, requests + 1)
            secrets = db.session.execute(db.select(Registration.secret).where(Registration.event_id == event.id)
                                         .order_by(Registration.id.desc()).limit(requests + 1)).scalars()
            paths = [f"/events/{SLUG}/p/{secret}/badge.pdf" for secret in secrets]
        server = Gunicorn(database, workers=1)

        def fetch(path, kind=b"%PDF"):
            started = time.perf_counter()
            status, _, body = get("127.0.0.1", server.port, path)
            assert status == 200 and body.startswith(kind), status
            return (time.perf_counter() - started) * 1000

        fetch(paths.pop())  # the worker's first badge loads the fonts and the stylesheet
        rendered = [fetch(path) for path in paths]
        cached = [fetch(path) for path in paths]
        trivial = [fetch("/api/v1/version", b"{") for _ in paths]
    finally:
        if server:
            server.stop()
        database.close()
    results.put((median(rendered), median(cached), median(trivial)))


def _batch(people, processes, results):
    from eventreg.badges.pdf import badge_sheets_pdf
    from eventreg.badges.service import batch
    from eventreg.events.service import get_event_by_slug

    peaks = {"pss": 0.0, "rss": 0.0, "largest": 0.0}
    done = threading.Event()

    def sample():
        while not done.wait(0.05):
            pids = _tree(os.getpid())
            peaks["pss"] = max(peaks["pss"], sum(pss_mb(pid) for pid in pids))
            peaks["rss"] = max(peaks["rss"], sum(rss_mb(pid) for pid in pids))
            peaks["largest"] = max(peaks["largest"], max(rss_mb(pid) for pid in pids))

    with tempfile.TemporaryDirectory(prefix="eventreg-bench-") as folder:
        app = make_app(folder, people)
        with app.app_context():
            event = get_event_by_slug(SLUG)
            sampler = threading.Thread(target=sample)
            sampler.start()
            started = time.perf_counter()
            # What the organizer's badges.pdf does (eventreg/badges/views.py).
            spool = tempfile.TemporaryFile()
            badge_sheets_pdf(batch(event), spool, **({"processes": processes} if processes else {}))
            seconds = time.perf_counter() - started
            done.set()
            sampler.join()
            size = spool.tell()
    results.put((seconds, peaks["pss"], peaks["rss"], peaks["largest"], size))


def make_app(folder, people):
    """An app on a fresh SQLite database with the demo event and `people` confirmed registrations."""
    os.environ["EVENTREG_INSTANCE_PATH"] = folder
    from config import TestConfig
    from eventreg import create_app
    from eventreg.events.service import seed_demo
    from eventreg.extensions import db

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/bench.sqlite3")
    with app.app_context():
        db.create_all()
        event, _ = seed_demo(date.today())
        add_people(event, people)
    return app


def add_people(event, people):
    """`people` confirmed registrations in the demo event: Kazakh names, every region, three categories."""
    from eventreg.extensions import db
    from eventreg.registration.models import Registration

    for number in range(people):
        db.session.add(Registration(
            event_id=event.id, last_name=SURNAMES[number % len(SURNAMES)], first_name="Әйгерім",
            patronymic="Қайратқызы", category_id=event.categories[number % 3].id,
            region_id=event.regions[number % len(event.regions)].id,
            organization="Алматы облысының жастар ресурстық орталығы", language=("kk", "ru", "en")[number % 3],
        ))
    db.session.commit()


def timed(function, repeat):
    """Median ms of `repeat` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return median(times) * 1000


def rss_mb(pid="self"):
    return _memory_mb(f"/proc/{pid}/status", "VmRSS:")


def pss_mb(pid):
    """The process's proportional set size: its resident pages, each shared page divided among
    the processes that share it (RSS summed over a process tree counts shared pages again and again)."""
    return _memory_mb(f"/proc/{pid}/smaps_rollup", "Pss:")


def _memory_mb(path, field):
    try:
        with open(path) as status:
            line = next(line for line in status if line.startswith(field))
    except (OSError, StopIteration):  # the process has gone
        return 0
    return int(line.split()[1]) / 1024


def _tree(pid):
    """The pids of a process and all its descendants (the pool's workers)."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            threads = os.listdir(f"/proc/{current}/task")
        except OSError:  # the process has gone
            continue
        for thread in threads:
            try:
                with open(f"/proc/{current}/task/{thread}/children") as children:
                    stack.extend(int(child) for child in children.read().split())
            except OSError:
                pass
    return found


if __name__ == "__main__":
    main()
