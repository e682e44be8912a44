"""Sign-up throughput under gunicorn: POST /events/<slug>/register (CSRF, validation, capacity, insert).

Usage: python bench/signup.py [--db sqlite|postgresql|both] [--clients 16] [--seconds 5] [--repeat 3]
Prints sign-ups per second as a ratio to a trivial JSON endpoint of the same app, measured in the
same run, and checks that the event was not overbooked.
"""
import argparse
import itertools
import os
import sys
from datetime import date, timedelta
from statistics import median
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import Database, Gunicorn, Trivial, csrf_session, load, post  # noqa: E402
from eventreg.registration.validators import iin_check_digit  # noqa: E402

SLUG = "asyl-jurek-2021"
PATH = f"/events/{SLUG}/register"


def valid_iins(client_index):
    """Valid IINs no other client gets: each client owns its own birth dates."""
    for day in itertools.count(client_index * 3):
        birth = date(1960, 1, 1) + timedelta(days=day)
        for serial in range(10000):
            prefix = f"{birth:%y%m%d}3{serial:04d}"
            check = iin_check_digit(prefix)
            if check is not None:
                yield f"{prefix}{check}", birth


class SignUp:
    def __init__(self, region_id, category_id, round_number):
        self.region_id, self.category_id = region_id, category_id
        self.first_client = round_number * 1000  # every round signs up people not seen before

    def setup(self, port, index):
        cookie, token = csrf_session(port, PATH)
        index += self.first_client
        return {"cookie": cookie, "token": token, "iins": valid_iins(index), "index": index, "n": 0}

    def request(self, port, state):
        iin, birth = next(state["iins"])
        state["n"] += 1
        body = urlencode({
            "csrf_token": state["token"], "last_name": "Сәрсенбаев", "first_name": "Әлихан",
            "iin": iin, "birth_date": birth.isoformat(), "phone": "+7 701 234 56 78",
            "email": f"c{state['index']}-{state['n']}@example.kz", "region": self.region_id,
            "category": self.category_id, "language": "kk", "consent": "y", "accept_waitlist": "y",
        })
        return post("127.0.0.1", port, PATH, body, {
            "Cookie": state["cookie"], "Content-Type": "application/x-www-form-urlencoded",
        })


def run(kind, clients, seconds, workers, threads, repeat):
    database = Database(kind)
    try:
        region_id = database.execute("SELECT min(id) FROM region")[0][0]
        category_id = database.execute("SELECT id FROM category WHERE code = 'volunteer'")[0][0]
        capacity = 500  # fewer than the sign-ups: part of the load goes to the waitlist
        database.execute("UPDATE event SET capacity = :capacity", capacity=capacity)
        server = Gunicorn(database, workers, threads)
        try:
            load(Trivial(), server.port, clients, 1)  # warm-up
            # Alternate baseline and sign-ups so that drift of the shared machine hits both alike.
            rounds = []
            for round_number in range(repeat):
                rounds.append((load(Trivial(), server.port, clients, seconds),
                               load(SignUp(region_id, category_id, round_number), server.port, clients, seconds)))
        finally:
            server.stop()
        confirmed = database.execute("SELECT count(*) FROM registration WHERE status = 'confirmed'")[0][0]
        total = database.execute("SELECT count(*) FROM registration")[0][0]
        counter = database.execute("SELECT confirmed_count FROM event")[0][0]
    finally:
        database.close()
    print(f"[{kind}] gunicorn {workers} workers x {threads} threads, {clients} clients, "
          f"{repeat} rounds of {seconds}s each")
    for baseline, signups in rounds:
        print(f"  trivial {baseline['rps']:7.1f} req/s (p99 {baseline['p99_ms']:5.1f} ms) | sign-up "
              f"{signups['rps']:6.1f} req/s (p50 {signups['p50_ms']:5.1f} ms, p99 {signups['p99_ms']:5.1f} ms) | "
              f"ratio {signups['rps'] / baseline['rps']:.3f}x")
    ratios = sorted(s['rps'] / b['rps'] for b, s in rounds)
    rates = sorted(s['rps'] for _, s in rounds)
    statuses = {}
    for _, signups in rounds:
        for status, count in signups["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    ok = statuses.get(303, 0)
    overbooked = confirmed > capacity or counter != confirmed
    print(f"  median ratio sign-up / trivial: {median(ratios):.3f}x, median {median(rates):.0f} sign-ups/s "
          f"(targets: >= 0.1x, >= 100/s)")
    print(f"  answers {statuses}; stored {total} registrations; confirmed {confirmed} of capacity {capacity}; "
          f"counter {counter}; overbooked: {'YES' if overbooked else 'no'}")
    return not overbooked and ok == total and set(statuses) == {303}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    good = all([run(kind, args.clients, args.seconds, args.workers, args.threads, args.repeat) for kind in kinds])
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
