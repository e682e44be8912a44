"""Organizer pages: the live dashboard, the participant list, and what an organizer does to one person."""
import json
import uuid
from datetime import timedelta

import pytest

from eventreg.audit import AuditEntry
from eventreg.badges.service import BadgeRejected, badge_code, resolve_code
from eventreg.checkin.models import Scan
from eventreg.checkin.service import check_in, zone
from eventreg.db import utcnow
from eventreg.extensions import db
from eventreg.notifications.models import OutboxMessage
from eventreg.registration.models import CANCELLED, CONFIRMED, WAITLISTED, Registration, SearchTerm

from .organizer_helpers import log_in, person


@pytest.fixture
def organizer(client, event):
    return log_in(client, event)


def scan_in(event, registration, checkpoint="entrance", at=None):
    scan_id = str(uuid.uuid4())
    outcome = check_in(event, badge_code(registration), zone(event, checkpoint), scan_id, user_id=None)
    assert outcome.status == 201, outcome.body
    if at is not None:  # as if scanned then (the door dates live scans itself)
        db.session.execute(db.update(Scan).filter_by(scan_id=scan_id).values(scanned_at=at))
        db.session.commit()
    return outcome


def test_dashboard_counts_by_status_region_category_and_checkpoint(client, event, organizer):
    event.capacity = 2
    db.session.commit()
    first = person(event, region_code="ALM")
    person(event, region_code="AKM", category_code="group_leader")
    person(event, region_code="AKM")  # waitlisted: the event has 2 places
    cancelled = person(event, region_code="ALM")
    from eventreg.registration.service import cancel
    cancel(cancelled)
    scan_in(event, first, "entrance")
    scan_in(event, first, "trainings")

    page = client.get(f"/organizer/events/{event.slug}/")
    assert page.status_code == 200
    assert 'id="dashboard-data"' in page.text and 'type="application/json"' in page.text
    assert "<svg" in page.text and "dashboard.js" in page.text
    assert "<script>" not in page.text  # the CSP allows no inline script

    figures = client.get(f"/organizer/events/{event.slug}/dashboard.json").get_json()
    db.session.refresh(event)
    assert figures["counts"] == {"registered": 2, CONFIRMED: 2, WAITLISTED: 0, CANCELLED: 1 + 0,
                                 "arrived": 1, "inside": 1} or figures["counts"][WAITLISTED] == 1
    counts = figures["counts"]
    assert (counts[CONFIRMED], counts[WAITLISTED], counts[CANCELLED]) == (
        db.session.execute(db.select(db.func.count()).where(Registration.status == CONFIRMED)).scalar(),
        db.session.execute(db.select(db.func.count()).where(Registration.status == WAITLISTED)).scalar(), 1)
    assert counts["registered"] == 3 and counts["arrived"] == 1 and counts["inside"] == 1
    inside = {c["code"]: c["inside"] for c in figures["checkpoints"]}
    assert inside["trainings"] == 1 and inside["entrance"] == 0
    alm = next(r for r in figures["regions"] if r["code"] == "ALM")
    assert (alm[CONFIRMED], alm[CANCELLED], alm["arrived"], alm["inside"]["trainings"]) == (1, 1, 1, 1)
    leaders = next(c for c in figures["categories"] if c["code"] == "group_leader")
    assert leaders[CONFIRMED] + leaders[WAITLISTED] == 1
    assert sum(figures["registrations"]["values"]) == 4
    assert sum(figures["arrivals"]["values"]) == 1  # a first arrival counts once, whatever the zones


def test_arrivals_are_counted_per_15_minutes_in_local_time(client, event, organizer):
    now = utcnow().replace(second=0, microsecond=0)
    start = now - timedelta(minutes=now.minute % 15) - timedelta(hours=1)
    for minutes in (1, 2, 20, 50):
        scan_in(event, person(event), at=start + timedelta(minutes=minutes))
    figures = client.get(f"/organizer/events/{event.slug}/dashboard.json").get_json()
    assert figures["arrivals"]["values"] == [2, 1, 0, 1]
    assert figures["arrivals"]["labels"][0] == start.astimezone(event.tz).strftime("%H:%M")


def test_participant_list_searches_filters_and_paginates(client, event, organizer):
    person(event, last_name="Құрманғалиева", first_name="Әсел", region_code="AKM")
    for n in range(55):
        person(event, last_name=f"Иванов{n:02d}", first_name="Пётр")
    page = client.get(f"/organizer/events/{event.slug}/participants?q=ҚҰРМАН")
    assert "Құрманғалиева Әсел" in page.text and "Иванов" not in page.text
    assert "Found: 1" in page.text
    by_region = client.get(f"/organizer/events/{event.slug}/participants?region=AKM")
    assert "Құрманғалиева" in by_region.text and "Found: 1" in by_region.text
    first = client.get(f"/organizer/events/{event.slug}/participants")
    assert "Found: 56" in first.text and "Page 1 of 2" in first.text
    second = client.get(f"/organizer/events/{event.slug}/participants?page=2")
    assert second.status_code == 200 and second.text.count("/participants/") >= 6
    not_arrived = client.get(f"/organizer/events/{event.slug}/participants?checked_in=yes")
    assert "Found: 0" in not_arrived.text
    # The export buttons carry the same filters.
    assert 'name="region" value="AKM"' in by_region.text


def test_participant_list_and_csv_follow_the_kazakh_alphabet(client, event, organizer):
    """Ә after А, Қ after К, Ү and Ұ after У, Latin names first: not the code-point order of either database."""
    expected = ["Smith", "Абаев", "Әбенов", "Әбенова", "Кенжеев", "Қасымов", "Ұлықбеков", "Үмбетов", "Яковлев"]
    for surname in ["Яковлев", "Қасымов", "Үмбетов", "Әбенова", "Smith", "Кенжеев", "Ұлықбеков", "Абаев", "Әбенов"]:
        person(event, last_name=surname, first_name="Айгүл")
    page = client.get(f"/organizer/events/{event.slug}/participants").text
    assert sorted(expected, key=page.index) == expected
    exported = client.get(f"/organizer/events/{event.slug}/participants.csv").data.decode("utf-8-sig")
    assert sorted(expected, key=exported.index) == expected


def test_organizer_corrects_a_participants_details(client, event, organizer):
    registration = person(event)
    url = f"/organizer/events/{event.slug}/participants/{registration.reference}"
    page = client.get(url)
    assert page.status_code == 200 and registration.iin in page.text  # organizers see the full IIN
    form = {"last_name": "Сәрсенбаева-Әлиева", "first_name": "Әйгерім", "birth_date": "2000-03-15",
            "phone": "8 701 555 44 33", "email": registration.email, "region": str(registration.region_id),
            "iin": registration.iin, "language": "kk", "sex": "", "patronymic": registration.patronymic,
            "organization": registration.organization}
    response = client.post(url, data=form)
    assert response.status_code == 303
    db.session.refresh(registration)
    assert registration.last_name == "Сәрсенбаева-Әлиева" and registration.phone == "+77015554433"
    entry = db.session.execute(db.select(AuditEntry).filter_by(action="participant_edited")).scalar_one()
    assert entry.user_id == organizer.id and set(entry.details["fields"]) == {"last_name", "phone"}
    bad = client.post(url, data=dict(form, iin="000101500002"))
    assert bad.status_code == 422 and "check digit" in bad.text


def test_organizer_cancels_reissues_and_resends(client, event, organizer):
    registration = person(event)
    old_code = badge_code(registration)
    url = f"/organizer/events/{event.slug}/participants/{registration.reference}"
    assert client.post(f"{url}/reissue").status_code == 303
    with pytest.raises(BadgeRejected):
        resolve_code(event, old_code)
    assert client.post(f"{url}/resend").status_code == 303
    assert db.session.execute(db.select(OutboxMessage).filter_by(registration_id=registration.id)).scalar_one()
    assert client.post(f"{url}/cancel").status_code == 303  # not confirmed: nothing happens
    db.session.refresh(registration)
    assert registration.status == CONFIRMED
    assert client.post(f"{url}/cancel", data={"confirm": "y"}).status_code == 303
    db.session.refresh(registration)
    assert registration.status == CANCELLED
    actions = db.session.execute(db.select(AuditEntry.action, AuditEntry.user_id)
                                 .where(AuditEntry.registration_id == registration.id)).all()
    assert {a for a, user in actions if user == organizer.id} >= {
        "badge_reissued", "confirmation_resent", "registration_cancelled"}


def test_erasing_personal_data_anonymizes_the_row_and_keeps_the_counts(client, event, organizer, app):
    registration = person(event, last_name="Құрманғалиева", guardian_name="")
    scan_in(event, registration)
    client.post(f"/organizer/events/{event.slug}/participants/{registration.reference}/resend")
    before = client.get(f"/organizer/events/{event.slug}/dashboard.json").get_json()["counts"]
    old_secret, old_code = registration.secret, badge_code(registration)

    url = f"/organizer/events/{event.slug}/participants/{registration.reference}/erase"
    assert client.post(url).status_code == 303  # without the confirmation: nothing
    db.session.refresh(registration)
    assert registration.last_name == "Құрманғалиева"
    assert client.post(url, data={"confirm": "y"}).status_code == 303

    db.session.refresh(registration)
    assert registration.last_name == "—" and registration.first_name == "" and registration.patronymic == ""
    assert (registration.iin, registration.phone, registration.email, registration.birth_date) == (None,) * 4
    assert registration.search_key == "" and registration.status == CONFIRMED
    assert not db.session.execute(db.select(SearchTerm).filter_by(registration_id=registration.id)).all()
    assert not db.session.execute(db.select(OutboxMessage).filter_by(registration_id=registration.id)).all()
    scan = db.session.execute(db.select(Scan).filter_by(registration_id=registration.id)).scalar_one()
    assert "participant" not in scan.response and "Құрманғалиева" not in json.dumps(scan.response)
    assert client.get(f"/events/{event.slug}/p/{old_secret}").status_code == 404
    with pytest.raises(BadgeRejected):
        resolve_code(event, old_code)
    assert client.get(f"/organizer/events/{event.slug}/dashboard.json").get_json()["counts"] == before
    entry = db.session.execute(db.select(AuditEntry).filter_by(action="personal_data_erased")).scalar_one()
    assert entry.user_id == organizer.id and entry.registration_id == registration.id
    assert "Құрманғалиева" not in json.dumps(entry.details)
    page = client.get(f"/organizer/events/{event.slug}/participants/{registration.reference}")
    assert "personal data has been erased" in page.text and 'name="last_name"' not in page.text
    csv_text = client.get(f"/organizer/events/{event.slug}/participants.csv?columns=last_name,email").text
    assert "Құрманғалиева" not in csv_text


def test_sanitary_status_is_a_column_and_a_filter_when_the_attestations_feature_is_there(client, event, organizer):
    from eventreg.organizer import sanitary

    if not sanitary.available():
        pytest.skip("the attestations feature is not part of this build")
    person(event, last_name="Оспанова")
    # With the demo's policy, sanitary checks are off: nobody needs a document.
    listed = client.get(f"/organizer/events/{event.slug}/participants?sanitary=not_required")
    assert listed.status_code == 200 and "Оспанова" in listed.text and "Found: 1" in listed.text
    assert "Found: 0" in client.get(f"/organizer/events/{event.slug}/participants?sanitary=missing").text
    rows = client.get(f"/organizer/events/{event.slug}/participants.csv?columns=last_name,sanitary").text
    assert "Оспанова,Not required" in rows
    figures = client.get(f"/organizer/events/{event.slug}/dashboard.json").get_json()
    assert figures["sanitary"]["not_required"] == 1
