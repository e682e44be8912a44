"""Sign-up throughput under gunicorn: POST /events/<slug>/register (CSRF, validation, capacity, insert).

Usage: python bench/signup.py [--db sqlite|postgresql|both] [--clients 16] [--seconds 10]
Prints sign-ups per second as a ratio to a trivial JSON endpoint of the same app, measured in the
same run, and checks that the event was not overbooked.
"""
import argparse
import itertools
import os
import sys
from datetime import date, timedelta
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import Database, Gunicorn, Trivial, csrf_session, load, post  # noqa: E402
from eventreg.registration.validators import iin_check_digit  # noqa: E402

SLUG = "asyl-jurek-2021"
PATH = f"/events/{SLUG}/register"


def valid_iins(client_index):
    """Valid IINs no other client gets: each client owns its own birth dates."""
    for day in itertools.count(client_index * 100):
        birth = date(1980, 1, 1) + timedelta(days=day)
        for serial in range(10000):
            prefix = f"{birth:%y%m%d}3{serial:04d}"
            check = iin_check_digit(prefix)
            if check is not None:
                yield f"{prefix}{check}", birth


class SignUp:
    def __init__(self, region_id, category_id):
        self.region_id, self.category_id = region_id, category_id

    def setup(self, port, index):
        cookie, token = csrf_session(port, PATH)
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


def run(kind, clients, seconds, workers, threads):
    database = Database(kind)
    try:
        region_id = database.execute("SELECT min(id) FROM region")[0][0]
        category_id = database.execute("SELECT id FROM category WHERE code = 'volunteer'")[0][0]
        capacity = 500  # fewer than the sign-ups: part of the load goes to the waitlist
        database.execute("UPDATE event SET capacity = :capacity", capacity=capacity)
        server = Gunicorn(database, workers, threads)
        try:
            load(Trivial(), server.port, clients, 1)  # warm-up
            baseline = load(Trivial(), server.port, clients, seconds)
            signups = load(SignUp(region_id, category_id), server.port, clients, seconds)
        finally:
            server.stop()
        confirmed = database.execute("SELECT count(*) FROM registration WHERE status = 'confirmed'")[0][0]
        total = database.execute("SELECT count(*) FROM registration")[0][0]
        counter = database.execute("SELECT confirmed_count FROM event")[0][0]
    finally:
        database.close()
    ok = signups["statuses"].get(303, 0)
    overbooked = confirmed > capacity or counter != confirmed
    print(f"[{kind}] gunicorn {workers} workers x {threads} threads, {clients} clients, {seconds}s each")
    print(f"  trivial JSON endpoint: {baseline['rps']:8.1f} req/s  p50 {baseline['p50_ms']:6.1f} ms"
          f"  p99 {baseline['p99_ms']:6.1f} ms  statuses {baseline['statuses']}")
    print(f"  sign-up POST:          {signups['rps']:8.1f} req/s  p50 {signups['p50_ms']:6.1f} ms"
          f"  p99 {signups['p99_ms']:6.1f} ms  statuses {signups['statuses']}")
    print(f"  ratio sign-up / trivial: {signups['rps'] / baseline['rps']:.3f}x   "
          f"(target >= 0.1x and >= 100 sign-ups/s)")
    print(f"  stored {total} registrations for {ok} answers 303; confirmed {confirmed} of capacity {capacity}; "
          f"counter {counter}; overbooked: {'YES' if overbooked else 'no'}")
    return not overbooked and ok == total and set(signups["statuses"]) == {303}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    good = all([run(kind, args.clients, args.seconds, args.workers, args.threads) for kind in kinds])
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
