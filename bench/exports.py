"""Attendee list exports under gunicorn: 100,000 participants as CSV, XLSX and PDF sign-in sheets.

Usage: python bench/exports.py [--db sqlite|postgresql|both] [--people 100000] [--pdf-region ALM]

Each export is downloaded over HTTP by an organizer (one gunicorn sync worker, so that the worker
measured is the one that served it). Reported: the time to the last byte, and the growth of the
worker's resident memory (VmHWM, the peak, read from /proc after the download, against the worker's
baseline after a warm-up request). The baseline request of the same run is the trivial JSON
endpoint, as in the other benchmarks. Targets (issue 6, 2-core machine): CSV < 2 s, XLSX < 20 s,
memory growth < 100 MB for both. The PDF sign-in sheets are measured for one region (a
delegation's list, about 1/17 of the people) and reported without a target.
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import ROOT, Database, Gunicorn, csrf_session  # noqa: E402
from bench.checkin import add_participants  # noqa: E402

SLUG = "asyl-jurek-2021"
EMAIL, PASSWORD = "organizer@bench.kz", "bench password 1"


class ExportDatabase(Database):
    """The harness's database, plus any table a feature has that the migrations do not create yet
    (create_all adds only the missing ones; with the migrations up to date it does nothing)."""

    def flask(self, *args):
        super().flask(*args)
        if args == ("db", "upgrade"):
            import subprocess

            subprocess.run([sys.executable, "-c", "from wsgi import app\nfrom eventreg.extensions import db\n"
                            "with app.app_context(): db.create_all()"], cwd=ROOT, env=self.env, check=True)


def prepare(database, people):
    from eventreg import create_app
    from eventreg.auth.service import create_or_update_user
    from eventreg.events.service import get_event_by_slug
    from eventreg.extensions import db

    app = create_app(SQLALCHEMY_DATABASE_URI=database.url)
    with app.app_context():
        event = get_event_by_slug(SLUG)
        event.capacity = None
        db.session.commit()
        create_or_update_user(EMAIL, PASSWORD, "organizer", event)
        add_participants(db, event, people, first=0)
        db.engine.dispose()


def log_in(port):
    """A logged-in organizer's session cookie (the login form has a CSRF token, as in production)."""
    import http.client
    from urllib.parse import urlencode

    cookie, token = csrf_session(port, "/login")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/login", body=urlencode({"csrf_token": token, "email": EMAIL, "password": PASSWORD}),
                       headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 303, response.status
    return response.getheader("Set-Cookie").split(";")[0]


def worker_pids(master_pid):
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def memory_kb(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak(pid):
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0): the peak is then this download's.
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def download(port, cookie, path):
    """(status, seconds to the last byte, bytes): read in chunks, as a browser would, never held whole."""
    import http.client

    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.request("GET", path, headers={"Cookie": cookie, "Accept-Language": "kk"})
    response = connection.getresponse()
    size = 0
    while chunk := response.read(1 << 16):
        size += len(chunk)
    connection.close()
    return response.status, time.perf_counter() - started, size


def run(kind, people, pdf_region):
    database = ExportDatabase(kind)
    try:
        prepare(database, people)
        # A delegation's sign-in sheets take longer than gunicorn's default 30 s worker timeout.
        database.env["GUNICORN_CMD_ARGS"] = "--timeout 300"
        server = Gunicorn(database, workers=1)
        try:
            (pid,) = worker_pids(server.process.pid)
            cookie = log_in(server.port)
            base = f"/organizer/events/{SLUG}"
            columns = "reference,last_name,first_name,patronymic,region,category,organization,phone,email,status"
            # Warm-up: imports, the font configuration, the first page of the list.
            download(server.port, cookie, f"{base}/participants.csv?columns=reference&region=ALM")
            download(server.port, cookie, f"{base}/participants.pdf?region=SHY&q=zzzz")
            trivial = min(download(server.port, cookie, "/api/v1/version")[1] for _ in range(20))
            results = []
            for label, path in (("CSV", f"{base}/participants.csv?columns={columns}"),
                                ("XLSX", f"{base}/participants.xlsx?columns={columns}"),
                                (f"PDF ({pdf_region})", f"{base}/participants.pdf?region={pdf_region}")):
                rss_before = memory_kb(pid, "VmRSS")
                exact_peak = reset_peak(pid)
                status, seconds, size = download(server.port, cookie, path)
                peak = memory_kb(pid, "VmHWM")
                results.append((label, status, seconds, size, rss_before, peak, memory_kb(pid, "VmRSS"), exact_peak))
        finally:
            server.stop()
    finally:
        database.close()

    print(f"[{kind}] {people:,} participants, 1 gunicorn sync worker; trivial endpoint {trivial * 1000:.1f} ms")
    good = True
    for label, status, seconds, size, before, peak, after, exact in results:
        growth = (peak - before) / 1024
        print(f"  {label:<10} HTTP {status} {size / 1e6:7.1f} MB in {seconds:6.2f} s | worker RSS before "
              f"{before / 1024:6.1f} MB, peak {peak / 1024:6.1f} MB{'' if exact else ' (since start)'}, "
              f"after {after / 1024:6.1f} MB: growth {growth:5.1f} MB")
        target = {"CSV": 2, "XLSX": 20}.get(label)
        if status != 200 or (target and (seconds > target or growth > 100)):
            good = False
    print("  targets: CSV < 2 s, XLSX < 20 s, memory growth < 100 MB:", "met" if good else "NOT MET")
    return good


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--pdf-region", default="ALM")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    good = all([run(kind, args.people, args.pdf_region) for kind in kinds])
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
