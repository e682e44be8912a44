"""Sanitary attestations through the pages and at the door: review, declarations, policy, check-in, override."""
from datetime import date, timedelta

import pytest

from eventreg.attestations import service
from eventreg.attestations.models import Evidence, HealthDeclaration, SanitaryPolicy
from eventreg.attestations.service import get_policy
from eventreg.audit import AuditEntry
from eventreg.checkin.models import Presence
from eventreg.db import utcnow
from eventreg.extensions import db

from .attestation_helpers import login, logout, set_policy, upload


def private_page(client, event, registration):
    return client.get(f"/events/{event.slug}/p/{registration.secret}").text


def audit_actions():
    return [row.action for row in db.session.execute(db.select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def test_the_demo_event_gets_the_domain_defaults_with_enforcement_off(event):
    policy = get_policy(event)
    assert (policy.mode, policy.pcr_hours, policy.first_dose_days, policy.full_course_days, policy.recovery_days,
            policy.declaration_required, policy.max_temperature) == ("off", 72, 21, 365, 90, True, 37.0)
    assert set(policy.kinds) == {"vaccination_first_dose", "vaccination_full", "pcr_negative", "recovery",
                                 "medical_exemption"}


def test_with_enforcement_off_the_private_page_asks_for_nothing(client, event, participant):
    registration, _ = participant()
    assert "Sanitary requirements" not in private_page(client, event, registration)


def test_review_flow_upload_approve_and_the_participant_sees_it(client, event, participant):
    set_policy(event, mode="block", declaration_required=False)
    registration, _ = participant()
    page = private_page(client, event, registration)
    assert "Sanitary requirements" in page and "Missing" in page and "Add a document" in page

    assert upload(client, event, registration, taken_on=date.today() - timedelta(days=10)).status_code == 303
    assert "Waiting for review" in private_page(client, event, registration)

    login(client, event, "organizer")
    queue = client.get(f"/organizer/events/{event.slug}/evidence")
    evidence = db.session.execute(db.select(Evidence)).scalar_one()
    assert queue.status_code == 200
    assert registration.full_name in queue.text
    file_url = f"/organizer/events/{event.slug}/evidence/{evidence.id}/file"
    assert f'<iframe class="evidence-file" src="{file_url}"' in queue.text
    response = client.post(f"/organizer/events/{event.slug}/evidence/{evidence.id}/review",
                           data={"decision": "approve"})
    assert response.status_code == 303
    assert registration.full_name not in client.get(f"/organizer/events/{event.slug}/evidence").text
    logout(client)

    page = private_page(client, event, registration)
    assert "Accepted" in page and "Your documents are valid until" in page
    assert "Your current documents are valid until" in page
    assert audit_actions()[-2:] == ["evidence_added", "evidence_reviewed"]


def test_review_flow_reject_needs_a_reason_and_the_participant_reads_it(client, event, participant):
    set_policy(event, mode="block", declaration_required=False)
    registration, _ = participant()
    upload(client, event, registration, content=b"\xff\xd8\xff\xe0" + b"\x00" * 32, filename="photo.jpg")
    evidence = db.session.execute(db.select(Evidence)).scalar_one()
    login(client, event, "organizer")
    queue = client.get(f"/organizer/events/{event.slug}/evidence").text
    assert f'<img class="evidence-file" src="/organizer/events/{event.slug}/evidence/{evidence.id}/file"' in queue

    client.post(f"/organizer/events/{event.slug}/evidence/{evidence.id}/review", data={"decision": "reject"})
    assert db.session.get(Evidence, evidence.id).review_status == "pending"
    client.post(f"/organizer/events/{event.slug}/evidence/{evidence.id}/review",
                data={"decision": "reject", "reason": "The photo is blurred: the date cannot be read."})
    row = db.session.get(Evidence, evidence.id)
    assert (row.review_status, row.reject_reason) == ("rejected", "The photo is blurred: the date cannot be read.")
    assert row.reviewed_by.email == "organizer@example.kz"
    rejected = client.get(f"/organizer/events/{event.slug}/evidence?status=rejected").text
    assert registration.full_name in rejected
    logout(client)

    page = private_page(client, event, registration)
    assert "Not accepted" in page and "The photo is blurred: the date cannot be read." in page

    from eventreg.notifications.models import REVIEWED, OutboxMessage
    [email] = db.session.execute(db.select(OutboxMessage).filter_by(kind=REVIEWED)).scalars().all()
    assert email.to_address == registration.email and not email.attach_badge
    assert "The photo is blurred: the date cannot be read." in email.body_text


@pytest.mark.parametrize("role, status", [("anonymous", 302), ("staff", 403), ("organizer", 200)])
@pytest.mark.parametrize("path", ["sanitary-policy", "evidence"])
def test_organizer_pages_are_for_organizers_only(client, event, role, status, path):
    if role != "anonymous":
        login(client, event, role)
    assert client.get(f"/organizer/events/{event.slug}/{path}").status_code == status


def test_organizer_edits_the_policy_and_it_applies_at_once(client, event, participant, scan, token):
    registration, code = participant()
    assert scan(code).status_code == 201  # enforcement off: the demo door works as before
    scan(code, direction="out")
    login(client, event, "organizer")
    form = client.get(f"/organizer/events/{event.slug}/sanitary-policy")
    assert form.status_code == 200 and 'value="72"' in form.text
    response = client.post(f"/organizer/events/{event.slug}/sanitary-policy", data={
        "mode": "block", "kinds": ["pcr_negative", "vaccination_full"], "pcr_hours": "168", "first_dose_days": "21",
        "full_course_days": "365", "recovery_days": "90", "max_temperature": "37.0", "expiring_soon_hours": "24"})
    assert response.status_code == 303
    policy = db.session.execute(db.select(SanitaryPolicy)).scalar_one()
    assert (policy.mode, policy.pcr_hours, policy.kinds, policy.declaration_required) == (
        "block", 168, ("vaccination_full", "pcr_negative"), False)
    assert "sanitary_policy_changed" in audit_actions()
    refused = scan(code)
    assert refused.status_code == 403 and refused.json["result"] == "attestation_required"


def test_block_mode_refuses_entry_without_valid_documents(scan, participant, event):
    set_policy(event, mode="block", declaration_required=False)
    registration, code = participant()
    response = scan(code)
    assert response.status_code == 403
    body = response.json
    assert body["result"] == "attestation_required"
    assert body["participant"]["name"] == registration.full_name
    assert body["sanitary"]["state"] == "missing"
    assert body["sanitary"]["text"].startswith("Add a document")
    assert db.session.get(Presence, registration.id) is None


def _approved(client, event, registration, **kwargs):
    assert upload(client, event, registration, **kwargs).status_code == 303
    evidence = db.session.execute(db.select(Evidence).filter_by(registration_id=registration.id)).scalars().all()[-1]
    service.review(evidence, approve=True, user_id=None)
    return evidence


def test_block_mode_lets_valid_documents_in_and_says_until_when(client, scan, participant, event):
    set_policy(event, mode="block", declaration_required=False)
    registration, code = participant()
    _approved(client, event, registration, taken_on=date.today() - timedelta(days=1))
    response = scan(code)
    assert response.status_code == 201
    sanitary = response.json["sanitary"]
    assert sanitary["state"] == "valid" and sanitary["valid_until"]
    assert "warning" not in sanitary


def test_pending_documents_are_not_enough_in_block_mode(client, scan, participant, event):
    set_policy(event, mode="block", declaration_required=False)
    registration, code = participant()
    upload(client, event, registration)
    response = scan(code)
    assert response.status_code == 403 and response.json["sanitary"]["state"] == "pending_review"


def test_warn_mode_lets_in_with_a_warning(scan, participant, event):
    set_policy(event, mode="warn", declaration_required=False)
    _, code = participant()
    response = scan(code)
    assert response.status_code == 201
    assert response.json["sanitary"] == {**response.json["sanitary"], "state": "missing", "warning": True}


def test_a_declaration_made_on_the_phone_completes_the_status(client, scan, participant, event):
    set_policy(event, mode="block", declaration_required=True)
    registration, code = participant()
    _approved(client, event, registration, taken_on=date.today() - timedelta(days=1))
    refused = scan(code)
    assert refused.status_code == 403 and refused.json["sanitary"]["reason"] == "declaration_missing"
    assert "Fill in today" in private_page(client, event, registration)

    response = client.post(f"/events/{event.slug}/p/{registration.secret}/declaration",
                           data={"no_symptoms": "y", "no_contact": "y", "temperature": "36.6"})
    assert response.status_code == 303
    declaration = db.session.execute(db.select(HealthDeclaration)).scalar_one()
    assert declaration.made_by_id is None
    assert declaration.day == utcnow().astimezone(event.tz).date()  # the event's local day
    assert scan(code).status_code == 201


def test_a_declaration_with_fever_keeps_the_door_closed(client, scan, participant, event):
    set_policy(event, mode="block", declaration_required=True)
    registration, code = participant()
    _approved(client, event, registration, taken_on=date.today() - timedelta(days=1))
    client.post(f"/events/{event.slug}/p/{registration.secret}/declaration",
                data={"no_symptoms": "y", "no_contact": "y", "temperature": "37.8"})
    response = scan(code)
    assert response.status_code == 403 and response.json["sanitary"]["reason"] == "declaration_temperature"


def test_staff_fill_in_the_declaration_at_the_entrance(client, scan, participant, event, staff):
    set_policy(event, mode="block", declaration_required=True)
    registration, code = participant()
    _approved(client, event, registration, taken_on=date.today() - timedelta(days=1))
    client.post("/login", data={"email": "staff@example.kz", "password": "staff password 1"})
    page = client.get(f"/checkin/{event.slug}/declaration/{registration.display_reference}")
    assert page.status_code == 200 and "Fill in today" in page.text and "IIN" not in page.text
    response = client.post(f"/checkin/{event.slug}/declaration/{registration.reference}",
                           data={"no_symptoms": "y", "no_contact": "y", "temperature": "36.5"})
    assert response.status_code == 303
    declaration = db.session.execute(db.select(HealthDeclaration)).scalar_one()
    assert declaration.made_by_id == staff.id
    assert scan(code).status_code == 201
    assert "health_declaration" in audit_actions()


def test_the_staff_declaration_page_needs_staff_of_this_event(client, event, participant):
    registration, _ = participant()
    url = f"/checkin/{event.slug}/declaration/{registration.reference}"
    assert client.get(url).status_code == 302
    assert client.post(url, data={"no_symptoms": "y", "no_contact": "y", "temperature": "36.5"}).status_code == 302
    assert db.session.execute(db.select(HealthDeclaration)).first() is None


def test_an_organizer_override_lets_the_next_scan_through_once(client, scan, participant, event):
    set_policy(event, mode="block", declaration_required=False)
    registration, code = participant()
    assert scan(code).status_code == 403
    login(client, event, "organizer")
    url = f"/organizer/events/{event.slug}/participants/{registration.reference}/override"
    assert "Missing" in client.get(url).text
    refused = client.post(url, data={"reason": ""})
    assert refused.status_code == 422
    assert client.post(url, data={"reason": "Vaccinated abroad; certificate seen by the doctor on duty."}
                       ).status_code == 303

    let_in = scan(code)
    assert let_in.status_code == 201
    assert let_in.json["sanitary"]["override"] is True and let_in.json["sanitary"]["warning"] is True
    entries = db.session.execute(db.select(AuditEntry).where(
        AuditEntry.action.in_(["sanitary_override", "sanitary_override_used"]))).scalars().all()
    assert [e.action for e in entries] == ["sanitary_override", "sanitary_override_used"]
    assert entries[0].details["reason"] == "Vaccinated abroad; certificate seen by the doctor on duty."
    assert entries[0].user_id is not None

    scan(code, direction="out")
    assert scan(code).status_code == 403  # used up


def test_only_organizers_may_override(client, event, participant):
    registration, _ = participant()
    login(client, event, "staff")
    url = f"/organizer/events/{event.slug}/participants/{registration.reference}/override"
    assert client.post(url, data={"reason": "Friend of mine"}).status_code == 403


def test_a_cancelled_registration_cannot_add_documents(client, event, participant):
    registration, _ = participant()
    client.post(f"/events/{event.slug}/p/{registration.secret}/cancel", data={"confirm": "y"})
    assert client.get(f"/events/{event.slug}/p/{registration.secret}/evidence").status_code == 404



@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_status_and_its_dates_render_in_every_language(client, token, participant, event, language):
    set_policy(event, mode="block", declaration_required=False)
    registration, code = participant()
    _approved(client, event, registration, taken_on=date.today() - timedelta(days=1))
    page = client.get(f"/events/{event.slug}/p/{registration.secret}?lang={language}")
    assert page.status_code == 200 and str(date.today().year + 1) in page.text  # the full course ends next year
    answer = client.post(f"/api/v1/events/{event.slug}/checkins",
                         json={"code": code, "checkpoint": "entrance", "scan_id": f"scan-{language}-0001"},
                         headers={"Authorization": f"Bearer {token}", "Accept-Language": language})
    assert answer.status_code == 201
    assert str(date.today().year + 1) in answer.json["sanitary"]["text"]


def test_the_door_reads_the_same_documents_in_its_own_statement_as_the_status_does(participant, event):
    """The check-in reads evidence and declarations as JSON columns of its one statement
    (facts_columns): every kind of value must come back as _facts() reads it from the tables."""
    registration, _ = participant()
    taken_at = utcnow().replace(microsecond=123456) - timedelta(hours=30)
    db.session.add_all([
        Evidence(event_id=event.id, registration_id=registration.id, kind="pcr_negative", taken_at=taken_at,
                 stored_name="door-1.pdf", content_type="application/pdf", size=10, review_status="approved"),
        Evidence(event_id=event.id, registration_id=registration.id, kind="vaccination_first_dose",
                 taken_on=date(2021, 5, 3), stored_name="door-2.pdf", content_type="application/pdf", size=10,
                 review_status="rejected", reject_reason="Нечитаемо: «Қ» және \"ә\""),
        HealthDeclaration(registration_id=registration.id, day=date.today(), no_symptoms=True, no_contact=False,
                          temperature=36.6, at=taken_at),
        HealthDeclaration(registration_id=registration.id, day=date.today() - timedelta(days=1), no_symptoms=False,
                          no_contact=True, temperature=None, at=taken_at),
    ])
    db.session.commit()
    evidence, declarations = service.facts_columns(db.literal(registration.id), db.engine.dialect.name)
    row = db.session.execute(db.select(evidence, declarations)).one()

    def ordered(facts):
        return tuple(sorted(facts, key=repr))
    from_columns = service.facts_from_columns(*row)
    from_tables = service._facts([registration.id])[registration.id]
    assert [ordered(f) for f in from_columns] == [ordered(f) for f in from_tables]
    assert len(from_columns[0]) == 2 and len(from_columns[1]) == 2
    # and nobody's documents at all
    nobody = db.session.execute(db.select(*service.facts_columns(db.literal(-1), db.engine.dialect.name))).one()
    assert service.facts_from_columns(*nobody) == ([], [])
