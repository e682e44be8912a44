"""Offline scanning: syncing 1,000 queued scans, and the size of the door's local data.

Usage: python bench/offline.py [--db sqlite|postgresql|both] [--people 10000] [--scans 1000]

The sync is timed end to end the way the scanner page does it (batches of 500 over HTTP to gunicorn),
and as a ratio to as many check-ins sent one by one online. The local data is the full download
for an event of --people participants, raw and gzip-compressed as the server sends it.
"""
import argparse
import gzip
import http.client
import json
import os
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import Database, Gunicorn  # noqa: E402
from bench.checkin import SECRET, SLUG, prepare  # noqa: E402

BATCH = 500  # what static/js/offline.js sends at once


def request(port, method, path, token, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    all_headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})}
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=all_headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, response.getheader("Content-Encoding"), data


def queued_scans(codes, count, zone):
    start = datetime.now(timezone.utc) - timedelta(hours=1)
    return [{"scan_id": str(uuid.uuid4()), "code": codes[i % len(codes)][0], "checkpoint": zone,
             "scanned_at": (start + timedelta(seconds=i)).isoformat()} for i in range(count)]


def run(kind, people, scans):
    database = Database(kind)
    database.env.update(SECRET_KEY=SECRET)
    try:
        _, token, codes = prepare(database, people)
        server = Gunicorn(database, workers=2)
        try:
            status, encoding, body = request(server.port, "GET", f"/api/v1/events/{SLUG}/offline-data", token,
                                             headers={"Accept-Encoding": "gzip"})
            assert status == 200 and encoding == "gzip"
            raw = gzip.decompress(body)
            count = len(json.loads(raw)["badges"])

            offline = queued_scans(codes[:scans], scans, "trainings")
            started = time.perf_counter()
            answers = []
            for first in range(0, len(offline), BATCH):
                status, _, body = request(server.port, "POST", f"/api/v1/events/{SLUG}/sync", token,
                                          {"scans": offline[first:first + BATCH]})
                assert status == 200, body
                answers += json.loads(body)["results"]
            sync_seconds = time.perf_counter() - started
            again = time.perf_counter()
            for first in range(0, len(offline), BATCH):
                request(server.port, "POST", f"/api/v1/events/{SLUG}/sync", token,
                        {"scans": offline[first:first + BATCH]})
            resync_seconds = time.perf_counter() - again

            online = queued_scans(codes[:scans], scans, "games")
            started = time.perf_counter()
            for scan in online:
                scan.pop("scanned_at")
                request(server.port, "POST", f"/api/v1/events/{SLUG}/checkins", token, scan)
            online_seconds = time.perf_counter() - started
        finally:
            server.stop()
    finally:
        database.close()
    ok = sum(1 for a in answers if a["result"] == "ok")
    print(f"[{kind}] {count:,} participants: local data {len(raw) / 1e6:.2f} MB raw, "
          f"{len(body_size := gzip.compress(raw)) / 1e6:.2f} MB gzip (target < 2 MB compressed)")
    print(f"  sync of {scans:,} queued scans in batches of {BATCH}: {sync_seconds:.2f} s ({ok} ok; target < 5 s); "
          f"the same batches again: {resync_seconds:.2f} s; {scans:,} live check-ins one by one: "
          f"{online_seconds:.2f} s -> sync takes {sync_seconds / online_seconds:.2f}x the live time")
    return ok == scans and len(body_size) < 2_000_000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--scans", type=int, default=1000)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    sys.exit(0 if all([run(kind, args.people, args.scans) for kind in kinds]) else 1)


if __name__ == "__main__":
    main()
