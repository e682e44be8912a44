"""Exactly once under real concurrency, on SQLite and PostgreSQL."""
import json
import threading
from concurrent.futures import ThreadPoolExecutor

from eventreg.checkin.models import Presence, Scan
from eventreg.extensions import db

from .checkin_helpers import new_scan_id
from .helpers import see_committed


def test_twenty_simultaneous_scans_of_one_badge_give_exactly_one_ok(app, event, token, participant):
    _, code = participant()
    url = f"/api/v1/events/{event.slug}/checkins"
    start = threading.Barrier(20)

    def scan(_):
        client = app.test_client()
        start.wait()
        response = client.post(url,
                               json={"code": code, "checkpoint": "entrance", "scan_id": new_scan_id()},
                               headers={"Authorization": f"Bearer {token}"})
        return response.status_code, json.loads(response.get_data())["result"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(scan, range(20)))

    assert sorted(answers) == [(201, "ok")] + [(409, "already_checked_in")] * 19
    see_committed()
    assert db.session.execute(db.select(db.func.count()).select_from(Presence)).scalar() == 1
    assert db.session.execute(
        db.select(db.func.count()).select_from(Scan).where(Scan.result == "ok")).scalar() == 1


def test_the_same_scan_resent_simultaneously_is_one_checkin(app, event, token, participant):
    _, code = participant()
    scan_id = new_scan_id()
    url = f"/api/v1/events/{event.slug}/checkins"
    start = threading.Barrier(10)

    def scan(_):
        client = app.test_client()
        start.wait()
        response = client.post(url,
                               json={"code": code, "checkpoint": "entrance", "scan_id": scan_id},
                               headers={"Authorization": f"Bearer {token}"})
        return response.status_code, json.loads(response.get_data())["result"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(scan, range(10)))

    assert answers == [(201, "ok")] * 10
    see_committed()
    assert db.session.execute(db.select(db.func.count()).select_from(Scan)).scalar() == 1


def test_simultaneous_scans_moving_one_person_leave_them_in_one_zone_counted_once(app, event, token, participant):
    """The person is inside the entrance; ten scans at the trainings and ten at the games arrive at once.
    Every move is a compare-and-set on where they were: the moves that happened form one chain, each
    leaving the zone the previous one entered, and the person ends where the last one put them."""
    registration, code = participant()
    url = f"/api/v1/events/{event.slug}/checkins"
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().post(url, json={"code": code, "checkpoint": "entrance", "scan_id": new_scan_id()},
                                  headers=headers).status_code == 201
    start = threading.Barrier(20)

    def scan(n):
        client = app.test_client()
        start.wait()
        response = client.post(url, json={"code": code, "checkpoint": ("trainings", "games")[n % 2],
                                          "scan_id": new_scan_id()}, headers=headers)
        return response.status_code, json.loads(response.get_data())["result"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(scan, range(20)))

    assert {answer for answer in answers} <= {(201, "ok"), (409, "already_checked_in")}
    see_committed()
    # In the order they were written: a move's id is taken after its compare-and-set, under the person's
    # row lock (PostgreSQL) or the write lock (SQLite). Not by recorded_at: with two zones a scan can read
    # "trainings", take its time, and move the person only after two others moved them to the games and
    # back (the compare-and-set sees "trainings" again): its time is then earlier than theirs.
    moves = db.session.execute(
        db.select(Scan).where(Scan.registration_id == registration.id, Scan.result == "ok")
        .order_by(Scan.id)).scalars().all()
    assert len(moves) == 1 + answers.count((201, "ok"))
    for before, after in zip(moves, moves[1:]):  # each move left the zone the one before entered
        assert after.previous_checkpoint_id == before.checkpoint_id
    presence = db.session.get(Presence, registration.id)
    assert presence.checkpoint_id == moves[-1].checkpoint_id
    inside = db.session.execute(db.select(Presence.checkpoint_id, db.func.count()).where(
        Presence.event_id == event.id).group_by(Presence.checkpoint_id)).all()
    assert inside == [(moves[-1].checkpoint_id, 1)]


def test_people_crossing_between_two_zones_at_once_are_all_counted(app, event, token, participant):
    """Ten people go from the trainings to the games while ten others go the other way, all at once:
    each move changes both zones' counters (ZoneCount), which the database locks in one order, so
    no two moves wait for each other in a circle; every scan succeeds and the counters stay exact."""
    from eventreg.checkin.service import get_checkpoint, zone_headcount

    url = f"/api/v1/events/{event.slug}/checkins"
    headers = {"Authorization": f"Bearer {token}"}
    people = [participant()[1] for _ in range(20)]
    zones = ("trainings", "games")
    for n, code in enumerate(people):
        assert app.test_client().post(url, json={"code": code, "checkpoint": zones[n % 2], "scan_id": new_scan_id()},
                                      headers=headers).status_code == 201
    start = threading.Barrier(20)

    def cross(n):
        client = app.test_client()
        start.wait()
        return client.post(url, json={"code": people[n], "checkpoint": zones[(n + 1) % 2], "scan_id": new_scan_id()},
                           headers=headers).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert list(pool.map(cross, range(20))) == [201] * 20
    see_committed()
    for code in zones:
        zone_id = get_checkpoint(event, code).id
        assert zone_headcount(get_checkpoint(event, code)) == 10
        assert db.session.execute(db.select(db.func.count()).select_from(Presence)
                                  .where(Presence.checkpoint_id == zone_id)).scalar() == 10
