"""Uploading sanitary documents: only real PDF, JPEG and PNG files, kept private."""
from datetime import date, datetime, time, timedelta, timezone

import pytest

from eventreg.attestations.models import Evidence
from eventreg.audit import AuditEntry
from eventreg.db import as_utc
from eventreg.events.models import Event
from eventreg.extensions import db

from .attestation_helpers import JPEG, PDF, PNG, login, logout, stored_files, upload


@pytest.mark.parametrize("content, filename, message", [
    (b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024), "big.pdf", "The file is larger than 5 MB."),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200, "certificate.pdf", "Upload a PDF, JPEG or PNG file"),
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "certificate.png", "Upload a PDF, JPEG or PNG file"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>', "certificate.svg",
     "Upload a PDF, JPEG or PNG file"),
    (b"<!doctype html><html><script>alert(1)</script></html>", "certificate.jpg", "Upload a PDF, JPEG or PNG file"),
    (b"", "certificate.pdf", "The file is empty."),
    (PDF, "../../../etc/passwd.pdf", "The file name is not acceptable"),
    (PDF, "..\\..\\windows\\certificate.pdf", "The file name is not acceptable"),
])
def test_refused_uploads_say_why_and_leave_nothing_on_disk(app, client, event, participant, content, filename,
                                                            message):
    registration, _ = participant()
    response = upload(client, event, registration, content, filename)
    assert response.status_code == 422
    assert message in response.text
    assert stored_files(app) == []
    assert db.session.execute(db.select(Evidence)).first() is None


def test_no_file_at_all_is_refused(client, event, participant):
    registration, _ = participant()
    response = client.post(f"/events/{event.slug}/p/{registration.secret}/evidence",
                           data={"kind": "vaccination_full", "taken_on": date.today().isoformat()},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose a file to upload." in response.text


@pytest.mark.parametrize("content, filename, content_type", [
    (PDF, "сертификат.pdf", "application/pdf"),
    (JPEG, "IMG_0001.JPG", "image/jpeg"),
    (PNG, "scan", "image/png"),  # the name says nothing: the content decides
])
def test_a_pdf_jpeg_or_png_is_stored_under_a_random_name_outside_static(app, client, event, participant, content,
                                                                        filename, content_type):
    registration, _ = participant()
    response = upload(client, event, registration, content, filename, certificate_number=" KZ-123 ")
    assert response.status_code == 303
    evidence = db.session.execute(db.select(Evidence)).scalar_one()
    assert (evidence.content_type, evidence.size, evidence.review_status) == (content_type, len(content), "pending")
    assert evidence.certificate_number == "KZ-123"
    assert stored_files(app) == [evidence.stored_name]
    assert len(evidence.stored_name) == 32 and filename not in evidence.stored_name
    audit = db.session.execute(db.select(AuditEntry).filter_by(action="evidence_added")).scalar_one()
    assert audit.registration_id == registration.id and audit.details["kind"] == "vaccination_full"


def test_a_pcr_test_needs_the_sample_time_and_stores_it_in_utc(client, event, participant):
    registration, _ = participant()
    today = date.today()
    missing = upload(client, event, registration, kind="pcr_negative", taken_on=today)
    assert missing.status_code == 422 and "Enter the time the sample was taken." in missing.text
    response = upload(client, event, registration, kind="pcr_negative", taken_on=today, taken_time="00:00")
    assert response.status_code == 303
    evidence = db.session.execute(db.select(Evidence)).scalar_one()
    expected = datetime.combine(today, time(0, 0), event.tz).astimezone(timezone.utc)
    assert as_utc(evidence.taken_at) == expected


def test_a_date_in_the_future_is_refused(client, event, participant):
    registration, _ = participant()
    response = upload(client, event, registration, taken_on=date.today() + timedelta(days=2))
    assert response.status_code == 422 and "The date cannot be in the future." in response.text


@pytest.fixture
def uploaded(client, event, participant):
    """Two participants; the first one uploaded a PDF. Returns (owner, other, evidence)."""
    owner, _ = participant()
    other, _ = participant()
    assert upload(client, event, owner).status_code == 303
    evidence = db.session.execute(db.select(Evidence)).scalar_one()
    return owner, other, evidence


def test_the_owner_sees_their_document_with_safe_headers(client, event, uploaded):
    owner, _, evidence = uploaded
    response = client.get(f"/events/{event.slug}/p/{owner.secret}/evidence/{evidence.id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert response.headers["Content-Disposition"].startswith("inline; filename=document-")
    assert "no-store" in response.headers["Cache-Control"]
    download = client.get(f"/events/{event.slug}/p/{owner.secret}/evidence/{evidence.id}?download=1")
    assert download.headers["Content-Disposition"].startswith("attachment;")


def test_an_organizer_of_the_event_sees_the_document(client, event, uploaded):
    _, _, evidence = uploaded
    login(client, event, "organizer")
    response = client.get(f"/organizer/events/{event.slug}/evidence/{evidence.id}/file")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Security-Policy"].startswith("sandbox")


def _other_event():
    other = Event(slug="other-slet", name_kk="Басқа", name_ru="Другой", name_en="Other",
                       starts_on=date.today(), ends_on=date.today())
    db.session.add(other)
    db.session.commit()
    return other


@pytest.mark.parametrize("who", ["anonymous", "staff", "organizer_of_another_event", "staff_of_another_event"])
def test_nobody_else_sees_the_document(client, event, uploaded, who):
    _, _, evidence = uploaded
    if who == "staff":
        login(client, event, "staff")
    elif who != "anonymous":
        other = _other_event()
        login(client, other, who.split("_of_")[0])
    response = client.get(f"/organizer/events/{event.slug}/evidence/{evidence.id}/file")
    assert response.status_code == 403
    logout(client)


def test_another_participant_cannot_reach_the_document(client, event, uploaded):
    _, other, evidence = uploaded
    assert client.get(f"/events/{event.slug}/p/{other.secret}/evidence/{evidence.id}").status_code == 404
    assert client.get(f"/events/{event.slug}/p/not-a-secret/evidence/{evidence.id}").status_code == 404


def test_an_organizer_of_another_event_cannot_reach_it_through_their_own_event(client, event, uploaded):
    _, _, evidence = uploaded
    other = _other_event()
    login(client, other, "organizer", email="boss@other.kz")
    assert client.get(f"/organizer/events/{other.slug}/evidence/{evidence.id}/file").status_code == 404
    assert db.session.get(Event, other.id) is not None
