"""Where a check-in's time goes: the worker's CPU per request, in-process, against the same baselines.

Usage: python bench/checkin_cpu.py [--db sqlite|postgresql|both] [--requests 2000] [--inside 0] [--profile 25]

No HTTP and no concurrency: the Flask test client sends the trivial request, the floor (one
indexed SELECT + one INSERT) and the full check-in one after another in rounds, and each is timed
with time.process_time() (this process's CPU: what a gunicorn worker spends on the request) and
with the CPU time of the PostgreSQL server's processes (from /proc; SQLite's work is in the app's). Printed as ratios to the trivial request of the same
run. --inside N puts N other people inside the zone the check-ins enter first (a full hall: what a
scan costs should not grow with it). --profile N adds cProfile's N costliest functions of the check-in (by own time, or --sort cumulative), to find what
to make lighter: bench/checkin.py measures whether that shows over HTTP.
"""
import argparse
import cProfile
import glob
import json
import os
import pstats
import sys
import time
import uuid
from statistics import median

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import Database  # noqa: E402
from bench.checkin import SLUG, prepare  # noqa: E402


def database_cpu_seconds():
    """CPU time of every PostgreSQL server process so far (0 on SQLite: it runs in this process)."""
    ticks = 0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as file:
                name, _, rest = file.read().partition(" (")[2].partition(")")
            if name.startswith("postgres"):
                fields = rest.split()
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ValueError, IndexError):
            pass  # a process that ended meanwhile
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(client, requests, make_request, rounds):
    """This process's CPU, the database server's CPU and the wall time per request (ms), each the median
    of `rounds` rounds."""
    cpu, server, wall = [], [], []
    for _ in range(rounds):
        started = time.process_time(), database_cpu_seconds(), time.perf_counter()
        for _ in range(requests):
            make_request()
        ended = time.process_time(), database_cpu_seconds(), time.perf_counter()
        cpu.append((ended[0] - started[0]) * 1000 / requests)
        server.append((ended[1] - started[1]) * 1000 / requests)
        wall.append((ended[2] - started[2]) * 1000 / requests)
    return median(cpu), median(server), median(wall)


def fill_zone(app, zone_code, people):
    """`people` more participants, already inside the zone (their presence rows written as scans would)."""
    from bench.checkin import add_participants
    from eventreg.checkin.models import Presence
    from eventreg.checkin.service import get_checkpoint
    from eventreg.db import utcnow
    from eventreg.events.service import get_event_by_slug
    from eventreg.extensions import db

    with app.app_context():
        event = get_event_by_slug(SLUG)
        zone_id = get_checkpoint(event, zone_code).id
        ids = add_participants(db, event, people, first=1_000_000)
        db.session.execute(db.insert(Presence), [dict(registration_id=rid, event_id=event.id, checkpoint_id=zone_id,
                                                      since=utcnow()) for rid in ids])
        db.session.commit()
        db.engine.dispose()


def run(kind, requests, profile, sort, inside):
    os.environ["EVENTREG_BENCH_ENDPOINTS"] = "1"
    database = Database(kind)
    try:
        app, token, codes = prepare(database, requests * 4)
        if inside:
            fill_zone(app, "trainings", inside)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": "kk"}
        state = {"n": 0}

        def trivial():
            assert client.get("/api/v1/version").status_code == 200

        def floor():
            state["n"] += 1
            reference = codes[state["n"] % len(codes)][1]
            assert client.post(f"/bench/{SLUG}/floor", json={"reference": reference}).status_code == 201

        def checkin():
            # Every scan a first entry: each badge once per zone.
            state["n"] += 1
            code = codes[state["n"] % len(codes)][0]
            zone = ("trainings", "games")[state["n"] // len(codes) % 2]
            response = client.post(f"/api/v1/events/{SLUG}/checkins", headers=headers,
                                   data=json.dumps({"code": code, "checkpoint": zone, "scan_id": str(uuid.uuid4())}),
                                   content_type="application/json")
            assert response.status_code == 201, response.get_json()

        for warm in (trivial, floor, checkin):
            for _ in range(50):
                warm()
        per = max(1, requests // 4)
        results = {name: measure(client, per, job, 5)
                   for name, job in (("trivial", trivial), ("floor", floor), ("checkin", checkin))}
        print(f"[{kind}] CPU and wall time per request in-process, median of 5 rounds of {per}"
              f"{f', {inside:,} people inside the zone' if inside else ''}:")
        for name, (cpu, server, wall) in results.items():
            print(f"  {name:8s} app {cpu:6.3f} ms CPU ({cpu / results['trivial'][0]:5.2f}x trivial), "
                  f"database server {server:5.3f} ms CPU, {wall:6.3f} ms wall")
        total = {name: cpu + server for name, (cpu, server, _) in results.items()}
        print(f"  check-in app + database CPU {total['checkin'] / total['floor']:.2f}x the floor's, "
              f"{total['checkin'] / total['trivial']:.2f}x the trivial request's")
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(per):
                checkin()
            profiler.disable()
            pstats.Stats(profiler).sort_stats(sort).print_stats(profile)
        from eventreg.extensions import db
        with app.app_context():
            db.engine.dispose()
    finally:
        database.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--inside", type=int, default=0, metavar="N")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--sort", default="tottime", help="cProfile's order: tottime or cumulative")
    args = parser.parse_args()
    for kind in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        run(kind, args.requests, args.profile, args.sort, args.inside)


if __name__ == "__main__":
    main()
