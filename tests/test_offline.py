"""Offline scanning: the door's local data, and taking offline scans back in."""
import gzip
import json
from datetime import timedelta

from eventreg.auth.service import create_or_update_user
from eventreg.checkin.models import Presence, Scan
from eventreg.checkin.tokens import create_token
from eventreg.db import utcnow
from eventreg.extensions import db

from .checkin_helpers import new_scan_id


def sync(client, event, token, scans):
    return client.post(f"/api/v1/events/{event.slug}/sync", json={"scans": scans},
                       headers={"Authorization": f"Bearer {token}"})


def offline_scan(code, minutes_ago, checkpoint="entrance", scan_id=None):
    return {"scan_id": scan_id or new_scan_id(), "code": code, "checkpoint": checkpoint,
            "scanned_at": (utcnow() - timedelta(minutes=minutes_ago)).isoformat()}


def test_local_data_has_what_the_door_needs_and_no_contact_data(client, event, token, participant):
    registration, _ = participant(iin="000101500001", birth_date="2000-01-01", phone="+7 701 999 88 77")
    response = client.get(f"/api/v1/events/{event.slug}/offline-data",
                          headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    text = gzip.decompress(response.data).decode()
    data = json.loads(text)
    [badge] = data["badges"]
    assert badge["i"] == registration.id and badge["n"] == "Сәрсенбаева Әйгерім Қайратқызы"
    assert len(data["event"]["public_key"]) == 44  # 32 bytes, base64
    for secret in ("000101500001", "77019998877", registration.email, registration.secret, registration.reference):
        assert secret not in text


def test_incremental_download_sends_only_what_changed(client, event, token, participant, scan):
    participant()
    first = client.get(f"/api/v1/events/{event.slug}/offline-data",
                       headers={"Authorization": f"Bearer {token}"}).json
    assert len(first["badges"]) == 1
    _, code = participant(last_name="Жаңа")
    later = client.get(f"/api/v1/events/{event.slug}/offline-data", query_string={"since": first["cursor"]},
                       headers={"Authorization": f"Bearer {token}"}).json
    assert not later["full"]
    # Changes of the last 30 seconds are sent again (a commit may carry an older timestamp).
    assert "Жаңа" in [b["n"].split()[0] for b in later["badges"]]
    from eventreg.checkin import offline

    since = utcnow() + timedelta(minutes=1)  # nothing changed after this
    assert offline.snapshot(event, since)["badges"] == []


def test_sync_applies_offline_scans_with_their_scan_times(client, event, token, participant):
    _, code = participant()
    item = offline_scan(code, minutes_ago=30)
    response = sync(client, event, token, [item])
    assert response.status_code == 200
    assert response.json["results"][0]["result"] == "ok"
    scan = db.session.execute(db.select(Scan)).scalar_one()
    assert scan.offline and abs((scan.scanned_at.replace(tzinfo=None) - (utcnow() - timedelta(minutes=30))
                                 .replace(tzinfo=None)).total_seconds()) < 5


def test_the_same_batch_twice_changes_nothing_the_second_time(client, event, token, participant):
    _, code = participant()
    _, other = participant()
    batch = [offline_scan(code, 20), offline_scan(other, 19), offline_scan(code, 18)]  # code scanned twice
    first = sync(client, event, token, batch).json["results"]
    count = db.session.execute(db.select(db.func.count()).select_from(Scan)).scalar()
    second = sync(client, event, token, batch).json["results"]
    assert second == first
    assert db.session.execute(db.select(db.func.count()).select_from(Scan)).scalar() == count
    assert [r["result"] for r in first] == ["ok", "ok", "conflict"]


def _two_devices(event, staff):
    other, _ = create_or_update_user("second@example.kz", "second password", "staff", event)
    _, token_b = create_token(other, event, name="door B")
    return token_b


def test_two_devices_offline_earliest_kept_when_it_syncs_first(client, event, token, staff, participant):
    _, code = participant()
    token_b = _two_devices(event, staff)
    early, late = offline_scan(code, 30), offline_scan(code, 10)
    assert sync(client, event, token, [early]).json["results"][0]["result"] == "ok"
    answer = sync(client, event, token_b, [late]).json["results"][0]
    assert answer["result"] == "conflict" and answer["reason"] == "already_checked_in"
    assert_single_entry_at(early["scan_id"])


def test_two_devices_offline_earliest_kept_when_it_syncs_last(client, event, token, staff, participant):
    _, code = participant()
    token_b = _two_devices(event, staff)
    early, late = offline_scan(code, 30), offline_scan(code, 10)
    assert sync(client, event, token_b, [late]).json["results"][0]["result"] == "ok"
    assert sync(client, event, token, [early]).json["results"][0]["result"] == "ok"
    assert_single_entry_at(early["scan_id"])
    later = db.session.execute(db.select(Scan).filter_by(scan_id=late["scan_id"])).scalar_one()
    assert later.result == "conflict"


def assert_single_entry_at(scan_id):
    entries = db.session.execute(db.select(Scan).where(Scan.result == "ok")).scalars().all()
    assert [e.scan_id for e in entries] == [scan_id]
    assert db.session.execute(db.select(db.func.count()).select_from(Presence)).scalar() == 1


def test_a_badge_cancelled_while_the_device_was_offline_is_a_conflict(client, event, token, participant):
    registration, code = participant()
    client.post(f"/events/{event.slug}/p/{registration.secret}/cancel", data={"confirm": "y"})
    answer = sync(client, event, token, [offline_scan(code, 5)]).json["results"][0]
    assert answer["result"] == "conflict" and answer["reason"] == "cancelled"
    assert db.session.execute(db.select(db.func.count()).select_from(Presence)).scalar() == 0


def test_sync_refuses_bad_batches(client, event, token):
    assert sync(client, event, token, "nope").status_code == 422
    assert sync(client, event, token, [{"scan_id": new_scan_id(), "scanned_at": "yesterday"}]).status_code == 422
    assert client.post(f"/api/v1/events/{event.slug}/sync", json={"scans": []}).status_code == 401


def test_local_data_carries_the_sanitary_state_and_a_new_policy_sends_everything(client, event, token, participant):
    from eventreg.attestations.service import get_policy

    participant()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/events/{event.slug}/offline-data", headers=headers).json["sanitary"] == {"mode": "off"}
    policy = get_policy(event)
    policy.mode = "block"
    db.session.commit()
    data = client.get(f"/api/v1/events/{event.slug}/offline-data", headers=headers).json
    assert data["sanitary"]["mode"] == "block"
    [badge] = data["badges"]
    assert badge["ss"] == "missing" and badge["sv"] is None
    policy.mode = "warn"
    db.session.commit()
    later = client.get(f"/api/v1/events/{event.slug}/offline-data", query_string={"since": data["cursor"]},
                       headers=headers).json
    assert later["full"] and later["sanitary"]["mode"] == "warn"


def test_offline_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/events/{slug}/offline-data" in paths and "/api/v1/events/{slug}/sync" in paths


def test_organizers_see_the_conflicts_with_both_devices_and_times(client, event, token, staff, participant):
    _, code = participant(last_name="Жұмабаев")
    token_b = _two_devices(event, staff)
    sync(client, event, token, [offline_scan(code, 30)])
    sync(client, event, token_b, [offline_scan(code, 10)])
    create_or_update_user("org@example.kz", "organizer password", "organizer", event)
    client.post("/login", data={"email": "org@example.kz", "password": "organizer password"})
    page = client.get(f"/organizer/events/{event.slug}/conflicts").text
    assert "Жұмабаев" in page and "second@example.kz" in page and "staff@example.kz" in page
    assert "already_checked_in" in page
