"""Load test: sign-ups and check-ins at the same time under gunicorn, then every answer checked in the database.

Usage: python bench/load.py [--db sqlite|postgresql|both] [--clients 16] [--processes 2]
                            [--signups 300] [--checkins 1000]

For each database, on a fresh one with the demo event, gunicorn is started with the project's
gunicorn.conf.py. Then `clients` concurrent clients in separate processes send, mixed and in one go:
  sign-ups   POST /events/<slug>/register through the real form (each client got the form page
             once for its session cookie and CSRF token); more people than places, so the event
             fills up and the rest goes to the waitlist; one category has a small capacity of its
             own; and some people submit twice from two clients at the same moment.
  check-ins  POST /api/v1/events/<slug>/checkins with a device token, each a badge's first entry;
             and groups of clients that scan one badge at the same moment, some with scan_ids of
             their own (two devices: exactly one ok, the rest 409 already_checked_in) and some
             with the same scan_id (a device resending: the same answer for all, one record).
Then the database is read and the script reports, per kind of request, the count, p50 and p99,
the mixed load's throughput as a ratio to the trivial endpoint measured before and after it, and:
  errors        5xx answers, connection errors, unexpected statuses, wrong duplicate handling;
  lost writes   a sign-up answered 303 without its registration row (with the IIN and email sent)
                or without its confirmation email in the outbox, a check-in answer without its
                scan row (same scan_id, status and badge), a 201 entry without the person inside;
  overbooking   a counter above its capacity or different from its confirmed rows, or a place
                left free while someone who could take it was waitlisted.
Exits with 1 if any of them is not zero.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import date, timedelta
from statistics import mean, quantiles
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import ROOT, Database, Gunicorn, Trivial, csrf_session, exchange, load  # noqa: E402
from bench.checkin import SECRET, prepare  # noqa: E402
from eventreg.registration.validators import iin_check_digit  # noqa: E402

SLUG = "asyl-jurek-2021"
REGISTER = f"/events/{SLUG}/register"
CHECKINS = f"/api/v1/events/{SLUG}/checkins"
CHECKPOINT = "entrance"
SMALL_CATEGORY = "group_leader"
BARRIER_TIMEOUT = 60

LAST_NAMES = ["Сәрсенбаев", "Құрманғалиева", "Жұмабаев", "Төлеуова", "Оспанов", "Иванова", "Әбенов", "Нұрланова"]
FIRST_NAMES = ["Әлихан", "Айгерім", "Нұрлан", "Ұлжан", "Дәурен", "Гүлнар", "Асқар", "Мария"]


def people(count):
    """Distinct adults with valid IINs (born from 1970 on, one IIN per birth date)."""
    birth = date(1970, 1, 1)
    while count:
        for serial in range(10000):
            prefix = f"{birth:%y%m%d}3{serial:04d}"
            check = iin_check_digit(prefix)
            if check is not None:
                yield f"{prefix}{check}", birth
                count -= 1
                break
        birth += timedelta(days=1)


class Task:
    """One request to send: a sign-up (person) or a scan ((badge code, reference), scan_id); group: sent together."""

    def __init__(self, kind, group=None, person=None, code=None, scan_id=None):
        self.kind, self.group, self.person, self.code, self.scan_id = kind, group, person, code, scan_id


def plan(clients, signups, checkins, codes, region_ids, category_ids, seed):
    """Each client's list of tasks, and what was planned, for the checks afterwards.

    Tasks sent together (a group) go to clients of different processes and sit at about the same
    place in each member's list, every client meeting the groups in the same order: a client
    waits at a group for the others (a barrier), and nobody can wait for a group that comes later.
    """
    rng = random.Random(seed)
    group_size = min(4, clients)
    pairs = min(max(1, signups // 30), signups // 2)
    scan_groups = min(max(1, checkins // 40), checkins // group_size)
    plain_checkins = checkins - scan_groups * group_size
    if len(codes) < plain_checkins + scan_groups:
        raise ValueError("not enough badges")

    persons = []
    for n, (iin, birth) in enumerate(people(signups - pairs)):
        category = category_ids[SMALL_CATEGORY] if n % 5 == 0 else category_ids["volunteer"]
        persons.append({
            "last_name": LAST_NAMES[n % len(LAST_NAMES)],
            "first_name": FIRST_NAMES[n // len(LAST_NAMES) % len(FIRST_NAMES)], "iin": iin,
            "birth_date": birth.isoformat(), "phone": f"+7 701 234 {n // 100 % 100:02d} {n % 100:02d}",
            "email": f"load{n}@example.kz", "region": rng.choice(region_ids), "category": category,
            "language": ("kk", "ru", "en")[n % 3], "consent": "y", "accept_waitlist": "y",
        })
    plain = [Task("sign-up", person=person) for person in persons[pairs:]]
    plain += [Task("check-in", code=code, scan_id=str(uuid.uuid4())) for code in codes[:plain_checkins]]
    rng.shuffle(plain)

    # Groups: the double submits and the simultaneous scans, interleaved, numbered in order.
    groups = [("pair", persons[n]) for n in range(pairs)]
    groups += [("resend" if n % 3 == 2 else "devices", codes[plain_checkins + n]) for n in range(scan_groups)]
    groups.sort(key=lambda group: rng.random())
    group_tasks = defaultdict(list)  # client -> [(group number, task)]
    members = {}
    for number, (kind, what) in enumerate(groups):
        size = 2 if kind == "pair" else group_size
        step = clients // size
        first = rng.randrange(clients)
        members[number] = [(first + j * step) % clients for j in range(size)]
        shared_scan_id = str(uuid.uuid4())
        for client in members[number]:
            if kind == "pair":
                task = Task("sign-up (double submit)", group=number, person=what)
            else:
                task = Task("scan of one badge", group=number, code=what,
                            scan_id=shared_scan_id if kind == "resend" else str(uuid.uuid4()))
            group_tasks[client].append((number, task))

    lists = [plain[client::clients] for client in range(clients)]
    for client, tasks in enumerate(lists):
        mine = sorted(group_tasks[client], key=lambda item: item[0])
        total, last = len(tasks) + len(mine), -1
        for number, task in mine:
            at = max(int((number + 0.5) / len(groups) * total), last + 1)
            tasks.insert(at, task)
            last = at
    kinds = {number: kind for number, (kind, _) in enumerate(groups)}
    return lists, kinds, {number: len(m) for number, m in members.items()}


class Mixed:
    """A client works through its list of tasks once; records what each request got and how long it took."""

    def __init__(self, lists, barriers, token):
        self.lists, self.barriers, self.token = lists, barriers, token

    def setup(self, port, index):
        tasks = self.lists[index]
        cookie, csrf = (csrf_session(port, REGISTER)
                        if any(t.kind.startswith("sign-up") for t in tasks) else (None, None))
        return {"tasks": iter(tasks), "cookie": cookie, "csrf": csrf, "records": []}

    def request(self, port, state):
        task = next(state["tasks"], None)
        if task is None:
            return None
        together = True
        if task.group is not None:
            try:
                self.barriers[task.group].wait(BARRIER_TIMEOUT)
            except threading.BrokenBarrierError:
                together = False  # a member is gone: send anyway, the checks will say so
        started = time.perf_counter()
        try:
            status, detail = self._send(port, state, task)
        except (OSError, http.client.HTTPException) as error:
            status, detail = "connection error", repr(error)
        ended = time.perf_counter()
        state["records"].append({"kind": task.kind, "group": task.group, "status": status, "detail": detail,
                                 "started": started, "ended": ended, "together": together,
                                 "iin": task.person and task.person["iin"],
                                 "email": task.person and task.person["email"],
                                 "code": task.code, "scan_id": task.scan_id})
        return status

    def _send(self, port, state, task):
        if task.person is not None:
            body = urlencode(dict(task.person, csrf_token=state["csrf"]))
            status, response, _ = exchange("127.0.0.1", port, "POST", REGISTER, body, {
                "Cookie": state["cookie"], "Content-Type": "application/x-www-form-urlencoded"})
            found = re.search(r"/p/([^/?]+)", response.getheader("Location") or "")
            return status, found.group(1) if found else None
        body = json.dumps({"code": task.code[0], "checkpoint": CHECKPOINT, "scan_id": task.scan_id})
        status, _, answer = exchange("127.0.0.1", port, "POST", CHECKINS, body, {
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            answer = json.loads(answer)
        except ValueError:
            return status, None
        return status, {key: answer.get(key) for key in ("result", "scan_id", "checked_in_at")}

    def records(self, state):
        return state["records"]


EXPECTED = {"sign-up": {303}, "sign-up (double submit)": {303, 409}, "check-in": {201}, "scan of one badge": {201, 409}}


def check_answers(records, group_kinds, planned):
    """Errors: 5xx, connection errors, unexpected statuses, requests never sent, wrong duplicate handling."""
    problems = []
    for record in records:
        status = record["status"]
        if not isinstance(status, int) or status >= 500 or status not in EXPECTED[record["kind"]]:
            problems.append(f"{record['kind']}: {status} {record['detail']!r}")
        elif record["kind"] in ("check-in", "scan of one badge"):
            detail = record["detail"] or {}
            wanted = "ok" if status == 201 else "already_checked_in"
            if detail.get("result") != wanted or detail.get("scan_id") != record["scan_id"]:
                problems.append(f"{record['kind']}: {status} with {detail!r}")
    if len(records) < planned:
        problems.append(f"{planned - len(records)} planned requests never answered (a client failed)")
    by_group = defaultdict(list)
    for record in records:
        if record["group"] is not None:
            by_group[record["group"]].append(record)
    apart = 0
    for number, kind in group_kinds.items():
        answers = by_group[number]
        apart += not all(r["together"] for r in answers)
        statuses = sorted(r["status"] for r in answers if isinstance(r["status"], int))
        if kind == "pair" and statuses != [303, 409]:
            problems.append(f"double submit answered {statuses}, not one 303 and one 409")
        elif kind == "devices" and statuses != [201] + [409] * (len(answers) - 1):
            problems.append(f"one badge from {len(answers)} devices answered {statuses}, not one 201 and the rest 409")
        elif kind == "resend":
            times = {(r["detail"] or {}).get("checked_in_at") for r in answers}
            if set(statuses) != {201} or len(times) != 1:
                problems.append(f"one scan_id resent by {len(answers)} clients answered {statuses}, "
                                f"{len(times)} different check-in times")
    return problems, apart


def check_database(database, records, participants, places, small_capacity):
    """Lost writes and overbooking, read from the database after the run."""
    rows = {r.secret: r for r in database.execute(
        "SELECT id, secret, iin, email, status, category_id FROM registration WHERE iin IS NOT NULL")}
    confirmations = Counter(r[0] for r in database.execute(
        "SELECT registration_id FROM outbox_message WHERE kind = 'confirmation'"))
    scans = {r.scan_id: r for r in database.execute(
        "SELECT s.scan_id, s.status, s.result, r.reference FROM scan s "
        "LEFT JOIN registration r ON r.id = s.registration_id")}
    scan_ids_stored = Counter(r[0] for r in database.execute("SELECT scan_id FROM scan"))
    inside = {r[0] for r in database.execute(
        "SELECT r.reference FROM presence p JOIN registration r ON r.id = p.registration_id "
        "JOIN checkpoint c ON c.id = p.checkpoint_id WHERE c.code = :code", code=CHECKPOINT)}

    lost, signed_up = [], set()
    for record in records:
        status, detail = record["status"], record["detail"]
        if record["kind"].startswith("sign-up") and status == 303:
            row = rows.get(detail)
            if row is None or (row.iin, row.email) != (record["iin"], record["email"]):
                lost.append(f"sign-up {record['email']} answered 303 and is not stored")
            else:
                signed_up.add(row.secret)
                if confirmations[row.id] != 1:
                    lost.append(f"sign-up {record['email']}: {confirmations[row.id]} confirmation emails")
        elif record["kind"] in ("check-in", "scan of one badge") and isinstance(status, int) and status < 500:
            row = scans.get(record["scan_id"])
            reference = record["code"][1]
            if row is None or row.status != status:
                lost.append(f"scan {record['scan_id']} answered {status}, stored: {row and row.status}")
            elif row.reference != reference:
                lost.append(f"scan {record['scan_id']} stored for another badge")
            elif status == 201 and reference not in inside:
                lost.append(f"scan {record['scan_id']} answered 201 and {reference} is not inside")
    unanswered = len(rows) - len(signed_up)
    twice = sum(count > 1 for count in scan_ids_stored.values())

    event = database.execute("SELECT capacity, confirmed_count FROM event WHERE slug = :slug", slug=SLUG)[0]
    confirmed = dict(database.execute(
        "SELECT category_id, count(*) FROM registration WHERE status = 'confirmed' GROUP BY category_id"))
    categories = database.execute("SELECT id, code, capacity, confirmed_count FROM category")
    overbooking = []
    total = sum(confirmed.values())
    if total > event.capacity or event.confirmed_count != total:
        overbooking.append(f"event: {total} confirmed, counter {event.confirmed_count}, capacity {event.capacity}")
    full = {}
    for category in categories:
        rows_confirmed = confirmed.get(category.id, 0)
        if category.confirmed_count != rows_confirmed or (category.capacity is not None
                                                          and rows_confirmed > category.capacity):
            overbooking.append(f"{category.code}: {rows_confirmed} confirmed, counter {category.confirmed_count}, "
                               f"capacity {category.capacity}")
        full[category.id] = category.capacity is not None and rows_confirmed >= category.capacity
    waitlisted = [row for row in rows.values() if row.status == "waitlisted"]
    if any(not full[row.category_id] for row in waitlisted) and total < event.capacity:
        overbooking.append(f"{len(waitlisted)} waitlisted while {event.capacity - total} places are free")
    small = next(c.id for c in categories if c.code == SMALL_CATEGORY)
    return {
        "lost": lost, "unanswered_rows": unanswered, "scan_ids_twice": twice, "overbooking": overbooking,
        "summary": (f"sign-ups stored {len(rows)}: {total - participants} confirmed of {places} places "
                    f"({SMALL_CATEGORY} {confirmed.get(small, 0)} of {small_capacity}), {len(waitlisted)} "
                    f"waitlisted; scans stored {len(scans)}, {len(inside)} of {participants} badges inside"),
    }


def stats(records):
    latencies = sorted(r["ended"] - r["started"] for r in records)
    cuts = quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    return cuts[49] * 1000, cuts[98] * 1000, latencies[-1] * 1000


def run(kind, clients, processes, signups, checkins, workers, seconds, seed):
    database = Database(kind)
    database.env.update(SECRET_KEY=SECRET)
    try:
        badges = checkins  # more than the plan needs: every first entry and every group has its own badge
        _, token, codes = prepare(database, badges)
        places = signups * 5 // 6  # fewer than the people who sign up: the rest goes to the waitlist
        small_capacity = max(1, signups // 10)
        # The badges' people were inserted as confirmed, without the counters: count them in.
        database.execute("UPDATE event SET capacity = :capacity, confirmed_count = :count",
                         capacity=badges + places, count=badges)
        database.execute("UPDATE category SET confirmed_count = :count WHERE code = 'volunteer'", count=badges)
        database.execute("UPDATE category SET capacity = :capacity WHERE code = :code",
                         capacity=small_capacity, code=SMALL_CATEGORY)
        region_ids = [r[0] for r in database.execute("SELECT id FROM region ORDER BY id")]
        category_ids = dict(database.execute("SELECT code, id FROM category"))
        lists, group_kinds, group_sizes = plan(clients, signups, checkins, codes, region_ids, category_ids, seed)
        barriers = {number: multiprocessing.Barrier(size) for number, size in group_sizes.items()}

        server = Gunicorn(database, workers, config=ROOT / "gunicorn.conf.py")
        try:
            load(Trivial(), server.port, clients, 1, processes)  # warm-up
            before = load(Trivial(), server.port, clients, seconds, processes)
            mixed = load(Mixed(lists, barriers, token), server.port, clients, None, processes)
            after = load(Trivial(), server.port, clients, seconds, processes)
        finally:
            server.stop()
        records = mixed["records"]
        errors, apart = check_answers(records, group_kinds, sum(len(tasks) for tasks in lists))
        found = check_database(database, records, badges, places, small_capacity)
    finally:
        database.close()

    if not records:
        print(f"[{kind}] no request was answered: {errors}")
        return False
    span = max(r["ended"] for r in records) - min(r["started"] for r in records)
    rate = len(records) / span
    trivial_rate = mean([before["rps"], after["rps"]])
    print(f"[{kind}] gunicorn -c gunicorn.conf.py, {workers} sync workers; {clients} clients in {processes} processes")
    p50, p99 = (mean([before[key], after[key]]) for key in ("p50_ms", "p99_ms"))
    print(f"  trivial endpoint  {before['rps']:7.1f} / {after['rps']:7.1f} req/s before / after "
          f"(p50 {p50:.1f} ms, p99 {p99:.1f} ms)")
    print(f"  mixed load        {len(records)} requests in {span:.2f} s: {rate:.1f} req/s, "
          f"{rate / trivial_rate:.3f}x trivial")
    for name in EXPECTED:
        mine = [r for r in records if r["kind"] == name]
        if mine:
            p50, p99, worst = stats(mine)
            answers = dict(sorted(Counter(str(r["status"]) for r in mine).items()))
            print(f"  {name:<24}{len(mine):5d}  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  max {worst:6.1f} ms  "
                  f"answers {answers}")
    print(f"  {found['summary']}")
    if apart:
        print(f"  note: {apart} groups could not be sent together (a client was missing at the barrier)")
    lost = found["lost"]
    print(f"  errors {len(errors)}; lost writes {len(lost)}; overbooking {len(found['overbooking'])}; "
          f"stored without an answer: {found['unanswered_rows']} registrations, "
          f"{found['scan_ids_twice']} scan_ids twice")
    for line in (errors + lost + found["overbooking"])[:20]:
        print(f"    {line}")
    return not errors and not lost and not found["overbooking"] and not found["scan_ids_twice"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--processes", type=int, default=2, help="client processes the clients are spread over")
    parser.add_argument("--signups", type=int, default=300)
    parser.add_argument("--checkins", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1,
                        help="gunicorn workers (gunicorn.conf.py's default: cores + 1)")
    parser.add_argument("--seconds", type=float, default=3, help="each baseline measurement, before and after")
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()
    if args.clients < 2 or args.processes < 1:
        parser.error("at least 2 clients and 1 process")
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    good = all([run(kind, args.clients, args.processes, args.signups, args.checkins, args.workers, args.seconds,
                    args.seed) for kind in kinds])
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
