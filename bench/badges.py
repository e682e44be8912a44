"""Badge PDFs: one badge against a minimal WeasyPrint document, memory over many renders, a 1,000-badge batch.

Usage: python bench/badges.py [--renders 1000] [--batch 1000] [--processes 1 2]
Prints the median time of one badge (rendered, not from the cache) as a ratio to WeasyPrint
rendering a one-line page in the same process, the process's RSS before and after the renders,
and for the batch of A4 sheets its time and peak memory (ru_maxrss of the rendering processes),
each batch run in a fresh process so that its peak is its own.
"""
import argparse
import io
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from datetime import date
from statistics import median

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TARGET_RATIO = 2.0
TARGET_BATCH_SECONDS = 10
TARGET_BATCH_MB = 400


def rss_mb():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def make_app(folder, people):
    """An app on a fresh SQLite database with the demo event and `people` confirmed registrations."""
    os.environ["EVENTREG_INSTANCE_PATH"] = folder
    from config import TestConfig
    from eventreg import create_app
    from eventreg.events.service import seed_demo
    from eventreg.extensions import db
    from eventreg.registration.models import Registration

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/bench.sqlite3")
    with app.app_context():
        db.create_all()
        event, _ = seed_demo(date.today())
        surnames = ["Сәрсенбаева", "Нұрмұхамбетова-Қожахметова", "Жұмабеков", "Ли", "Оспанов", "Әбілқасымова"]
        for number in range(people):
            db.session.add(Registration(
                event_id=event.id, last_name=surnames[number % len(surnames)], first_name="Әйгерім",
                patronymic="Қайратқызы", category_id=event.categories[number % 3].id,
                region_id=event.regions[number % len(event.regions)].id,
                organization="Алматы облысының жастар ресурстық орталығы", language=("kk", "ru", "en")[number % 3],
            ))
        db.session.commit()
    return app


def timed(function, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return median(times) * 1000


def single(renders):
    from weasyprint import HTML

    from eventreg.badges.pdf import Folders, badge_content, badge_pdf, render
    from eventreg.extensions import db
    from eventreg.registration.models import Registration

    with tempfile.TemporaryDirectory(prefix="eventreg-bench-") as folder:
        app = make_app(folder, 3)
        with app.app_context():
            registrations = db.session.execute(db.select(Registration)).scalars().all()
            folders = Folders.of(app)
            contents = [badge_content(r) for r in registrations]
            minimal = "<!doctype html><p>Hello</p>"
            # Warm up both (fonts, stylesheet), then alternate so that drift of the machine hits both.
            render(folders, "badges/badges.html", contents[:1], "a6")
            HTML(string=minimal).write_pdf()
            badge_ms, minimal_ms = [], []
            for _ in range(5):
                badge_ms.append(timed(lambda: render(folders, "badges/badges.html", contents[:1], "a6"), 10))
                minimal_ms.append(timed(lambda: HTML(string=minimal).write_pdf(), 10))
            cached_ms = timed(lambda: badge_pdf(registrations[0]), 20)
            before = rss_mb()
            for number in range(renders):
                render(folders, "badges/badges.html", [contents[number % len(contents)]], "a6")
            after = rss_mb()
    ratio = median(badge_ms) / median(minimal_ms)
    print(f"one A6 badge: {median(badge_ms):.1f} ms rendered, {cached_ms:.2f} ms from the cache; "
          f"minimal one-page document {median(minimal_ms):.1f} ms; ratio {ratio:.2f}x (target <= {TARGET_RATIO}x)")
    print(f"RSS before / after {renders} single renders: {before:.0f} MB / {after:.0f} MB "
          f"({after - before:+.0f} MB)")
    return ratio <= TARGET_RATIO


def _batch_child(people, processes, results):
    from eventreg.badges.pdf import badge_sheets_pdf
    from eventreg.badges.service import batch
    from eventreg.events.service import get_event_by_slug

    with tempfile.TemporaryDirectory(prefix="eventreg-bench-") as folder:
        app = make_app(folder, people)
        with app.app_context():
            event = get_event_by_slug("asyl-jurek-2021")
            out = io.BytesIO()
            started = time.perf_counter()
            badge_sheets_pdf(batch(event), out, processes=processes)
            seconds = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    results.put((seconds, own, workers, len(out.getvalue())))


def run_batch(people, processes):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_batch_child, args=(people, processes, results))
    child.start()
    seconds, own, workers, size = results.get()
    child.join()
    peak = max(own, workers)
    worker_peak = f", {workers:.0f} MB (largest worker)" if processes > 1 else ""
    print(f"batch of {people} badges on A4 sheets, {processes} process(es): {seconds:.1f} s, "
          f"{size / 1e6:.1f} MB PDF; peak RSS {own:.0f} MB (main){worker_peak} "
          f"(targets < {TARGET_BATCH_SECONDS} s, < {TARGET_BATCH_MB} MB)")
    return seconds < TARGET_BATCH_SECONDS and peak < TARGET_BATCH_MB


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    good = single(args.renders)
    batches = [run_batch(args.batch, processes) for processes in args.processes]
    sys.exit(0 if good and batches[-1] else 1)


if __name__ == "__main__":
    main()
