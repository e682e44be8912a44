"""Check-in API throughput and latency under gunicorn, and name search among 100,000 participants.

Usage: python bench/checkin.py [--db sqlite|postgresql|both] [--clients 8] [--seconds 5] [--repeat 3]

Three loads alternate in rounds against the same server, from separate client processes:
  trivial  GET /api/v1/version (no database)
  floor    one indexed SELECT + one INSERT through the ORM (/bench/<slug>/floor)
  checkin  POST /api/v1/events/<slug>/checkins: token, badge signature, rules, sanitary status (the policy
           enforced, each participant with evidence and a declaration), presence, scan record
Each round's check-in rate is reported as a ratio to the trivial and the floor rates of that round.
Then 100,000 participants are added and name search is timed over HTTP and as a bare query.
"""
import argparse
import json
import os
import sys
import time
import uuid
from statistics import median, quantiles

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import Database, Gunicorn, Trivial, get, load, post  # noqa: E402

SLUG = "asyl-jurek-2021"
SECRET = "bench-secret-key"


def prepare(database, participants):
    """Staff, a token and participants with their badge codes, made in-process on the same database."""
    os.environ["SECRET_KEY"] = SECRET
    from config import Config
    from eventreg import create_app
    from eventreg.auth.service import create_or_update_user
    from eventreg.badges.service import badge_code
    from eventreg.checkin.tokens import create_token
    from eventreg.events.service import get_event_by_slug
    from eventreg.extensions import db

    Config.SECRET_KEY = SECRET
    app = create_app(SQLALCHEMY_DATABASE_URI=database.url, SECRET_KEY=SECRET)
    with app.app_context():
        event = get_event_by_slug(SLUG)
        event.capacity = None
        db.session.commit()
        user, _ = create_or_update_user("bench@example.kz", "bench password 1", "staff", event)
        _, token = create_token(user, event, hours=48)
        ids = add_participants(db, event, participants, first=0)
        enforce_sanitary_policy(db, event, ids)
        from eventreg.registration.models import Registration
        rows = db.session.execute(db.select(Registration).where(Registration.id.in_(ids))).scalars().all()
        codes = [(badge_code(r), r.reference) for r in rows]
        db.engine.dispose()
    return app, token, codes


def enforce_sanitary_policy(db, event, ids):
    """The 2021 slet's door: the policy blocks entry without valid evidence, and every participant has an
    approved full vaccination and today's health declaration, so each check-in reads them and lets in."""
    from datetime import datetime, timedelta, timezone

    from eventreg.attestations.models import Evidence, HealthDeclaration
    from eventreg.attestations.service import get_policy
    from eventreg.attestations.status import APPROVED, BLOCK, VACCINATION_FULL

    get_policy(event).mode = BLOCK
    now = datetime.now(timezone.utc)
    today = now.astimezone(event.tz).date()
    db.session.execute(db.insert(Evidence), [
        dict(event_id=event.id, registration_id=rid, kind=VACCINATION_FULL, taken_on=today - timedelta(days=60),
             stored_name=f"bench-{rid}.pdf", content_type="application/pdf", size=1000, review_status=APPROVED)
        for rid in ids])
    db.session.execute(db.insert(HealthDeclaration), [
        dict(registration_id=rid, day=today, no_symptoms=True, no_contact=True, temperature=36.6, at=now)
        for rid in ids])
    db.session.commit()


_references = set()


def unique_reference():
    """A new reference no earlier bench participant has: sign-up retries a taken one, a bulk insert cannot
    (124,000 random references of 8 characters collide in about 1 run in 100)."""
    from eventreg.registration.models import new_reference

    while (reference := new_reference()) in _references:
        pass
    _references.add(reference)
    return reference


def add_participants(db, event, count, first):
    """Bulk-insert participants (with their search words) as sign-up would have stored them."""
    from eventreg.registration.models import Registration, SearchTerm, new_secret
    from eventreg.text import search_key

    surnames = ["Сәрсенбаев", "Құрманғалиев", "Жұмабаев", "Төлеуов", "Оспанов", "Иванов", "Әбенов", "Нұрланов",
                "Серікбаев", "Ғабитов", "Үмбетов", "Өтегенов", "Исабеков", "Қасымов", "Смагулов", "Петров"]
    firsts = ["Ерлан", "Айгерім", "Нұрлан", "Ұлжан", "Дәурен", "Гүлнар", "Асқар", "Әсел", "Пётр", "Мария"]
    regions = [r.id for r in event.regions]
    category = next(c.id for c in event.categories if c.code == "volunteer")
    ids = []
    batch = 2000
    for start in range(first, first + count, batch):
        rows = []
        for n in range(start, min(start + batch, first + count)):
            last = f"{surnames[n % len(surnames)]}{n // 160}"
            name = firsts[n // len(surnames) % len(firsts)]
            rows.append(dict(event_id=event.id, reference=unique_reference(), secret=new_secret(), last_name=last,
                             first_name=name, patronymic="", latin_name="", iin=None, email=f"p{n}@bench.kz",
                             phone=None, region_id=regions[n % len(regions)], category_id=category, language="kk",
                             status="confirmed", search_key=search_key(last, name), iin_warnings="",
                             organization="", consent_version="bench", guardian_name="", badge_generation=1))
        result = db.session.execute(db.insert(Registration).returning(Registration.id, Registration.search_key), rows)
        pairs = result.all()
        ids.extend(p[0] for p in pairs)
        terms = [dict(registration_id=rid, event_id=event.id, term=word)
                 for rid, key in pairs for word in set(key.split())]
        db.session.execute(db.insert(SearchTerm), terms)
        db.session.commit()
    return ids


# Badges a client may scan per second of a round: more than any machine here has reached (about 100).
SCANS_PER_CLIENT_SECOND = 150


class CheckIn:
    """Each client owns its slice of badges and walks them between two zones: every scan is an entry."""

    def __init__(self, token, codes, clients, round_number, rounds):
        self.token, self.codes, self.clients = token, codes, clients
        self.round_number, self.rounds = round_number, rounds

    def setup(self, port, index):
        mine = self.codes[index::self.clients]
        # Each round (and the warm-up) takes its own part of the client's badges, so its scans are
        # first entries, never "already inside" (run() makes enough of them: SCANS_PER_CLIENT_SECOND).
        return {"mine": mine, "n": self.round_number * (len(mine) // self.rounds), "zones": ("trainings", "games")}

    def request(self, port, state):
        code, _ = state["mine"][state["n"] % len(state["mine"])]
        zone = state["zones"][(state["n"] // len(state["mine"])) % 2]
        state["n"] += 1
        body = json.dumps({"code": code, "checkpoint": zone, "scan_id": str(uuid.uuid4())})
        return post("127.0.0.1", port, f"/api/v1/events/{SLUG}/checkins", body,
                    {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})


class Floor:
    def __init__(self, codes):
        self.codes = codes

    def setup(self, port, index):
        return {"n": index}

    def request(self, port, state):
        state["n"] += 1
        _, reference = self.codes[state["n"] % len(self.codes)]
        return post("127.0.0.1", port, f"/bench/{SLUG}/floor", json.dumps({"reference": reference}),
                    {"Content-Type": "application/json"})


class Search:
    QUERIES = ["сәрсенбаев12", "құрманғалиев3", "жұмабаев45 ерлан", "ұлжан оспанов7", "петров1", "ғабитов", "асқар"]

    def __init__(self, token):
        self.token = token

    def setup(self, port, index):
        return {"n": index}

    def request(self, port, state):
        from urllib.parse import quote
        state["n"] += 1
        query = self.QUERIES[state["n"] % len(self.QUERIES)]
        return get("127.0.0.1", port, f"/api/v1/events/{SLUG}/search?q={quote(query)}",
                   {"Authorization": f"Bearer {self.token}"})[0]


def run(kind, clients, seconds, workers, repeat, search_people):
    database = Database(kind)
    database.env.update(SECRET_KEY=SECRET, EVENTREG_BENCH_ENDPOINTS="1")
    try:
        parts = repeat + 1  # the rounds and the warm-up
        app, token, codes = prepare(database, max(16_000, clients * parts * seconds * SCANS_PER_CLIENT_SECOND))
        server = Gunicorn(database, workers)
        rounds = []
        try:
            # Steady state is measured: a worker's first check-in compiles its statements and loads the
            # locale's data (about 70 ms; docs/PERFORMANCE.md), which would land in the first round's p99.
            load(Trivial(), server.port, clients, 1)
            load(Floor(codes), server.port, clients, 1)
            load(CheckIn(token, codes, clients, repeat, parts), server.port, clients, 1)
            for round_number in range(repeat):
                rounds.append((load(Trivial(), server.port, clients, seconds),
                               load(Floor(codes), server.port, clients, seconds),
                               load(CheckIn(token, codes, clients, round_number, parts), server.port, clients,
                                    seconds)))
            with app.app_context():
                from eventreg.events.service import get_event_by_slug
                from eventreg.extensions import db
                add_participants(db, get_event_by_slug(SLUG), search_people, first=len(codes))
                db.engine.dispose()
            http_search = load(Search(token), server.port, 4, seconds)
        finally:
            server.stop()
        query_ms = time_search_query(app)
    finally:
        database.close()

    print(f"[{kind}] gunicorn {workers} sync workers, {clients} concurrent clients, {repeat} rounds of {seconds}s")
    for trivial, floor, checkin in rounds:
        print(f"  trivial {trivial['rps']:7.1f}/s | floor {floor['rps']:6.1f}/s (p99 {floor['p99_ms']:5.1f} ms) | "
              f"check-in {checkin['rps']:6.1f}/s (p50 {checkin['p50_ms']:4.1f} ms, p99 {checkin['p99_ms']:5.1f} ms) | "
              f"{checkin['rps'] / trivial['rps']:.3f}x trivial, {checkin['rps'] / floor['rps']:.2f}x floor | "
              f"answers {checkin['statuses']}")
    to_trivial = median(c["rps"] / t["rps"] for t, _, c in rounds)
    to_floor = median(c["rps"] / f["rps"] for _, f, c in rounds)
    p99 = median(c["p99_ms"] for _, _, c in rounds)
    print(f"  median: check-in {to_trivial:.3f}x trivial (target >= 0.2x), {to_floor:.2f}x floor (target >= 0.9x), "
          f"p99 {p99:.1f} ms (target < 25 ms)")
    p95 = quantiles(http_search["latencies"], n=20)[18] * 1000 if http_search.get("latencies") else None
    print(f"  name search among {search_people + len(codes):,} participants: HTTP p50 {http_search['p50_ms']:.1f} ms, "
          f"p99 {http_search['p99_ms']:.1f} ms{'' if p95 is None else f', p95 {p95:.1f} ms'} (target p95 < 50 ms); "
          f"the query alone: median {median(query_ms):.2f} ms, worst {max(query_ms):.2f} ms (target < 10 ms)")
    statuses = set()
    for _, _, checkin in rounds:
        statuses |= set(checkin["statuses"])
    return statuses == {201}


def time_search_query(app):
    from eventreg.events.service import get_event_by_slug
    from eventreg.extensions import db
    from eventreg.registration.service import search

    timings = []
    with app.app_context():
        event = get_event_by_slug(SLUG)
        for _ in range(5):
            for query in Search.QUERIES:
                started = time.perf_counter()
                search(event, query)
                timings.append((time.perf_counter() - started) * 1000)
        db.engine.dispose()
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--search-people", type=int, default=100_000)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    good = all([run(kind, args.clients, args.seconds, args.workers, args.repeat, args.search_people)
                for kind in kinds])
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
