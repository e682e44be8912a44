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
