"""Badge pages: the participant's badge and QR, the organizer's batch, the staff badge desk."""
import io

import pytest
from pypdf import PdfReader

from eventreg.auth.service import create_or_update_user
from eventreg.badges.models import BadgePrint
from eventreg.badges.service import BadgeRejected, badge_code, resolve_code
from eventreg.extensions import db
from eventreg.registration.models import Registration
from eventreg.registration.service import cancel

PASSWORD = "correct horse battery"


def registration_of(sign_up, **overrides):
    assert sign_up(**overrides).status_code == 303
    return db.session.execute(db.select(Registration).order_by(Registration.id.desc()).limit(1)).scalar_one()


def log_in(client, event, role, email=None):
    email = email or f"{role}@example.kz"
    create_or_update_user(email, PASSWORD, role, event)
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 303


def prints():
    return db.session.execute(db.select(BadgePrint).order_by(BadgePrint.id)).scalars().all()


def test_participant_downloads_their_badge_and_sees_the_qr_on_their_page(sign_up, client, event):
    registration = registration_of(sign_up)
    base = f"/events/{event.slug}/p/{registration.secret}"
    page = client.get(base)
    assert f'{base}/qr.png' in page.text and f'{base}/badge.pdf' in page.text
    badge = client.get(f"{base}/badge.pdf")
    assert badge.status_code == 200 and badge.mimetype == "application/pdf"
    assert "Сәрсенбаева" in PdfReader(io.BytesIO(badge.data)).pages[0].extract_text()
    assert "no-store" in badge.headers["Cache-Control"]
    qr = client.get(f"{base}/qr.png")
    assert qr.status_code == 200 and qr.data.startswith(b"\x89PNG")


def test_participant_qr_png_decodes_to_the_badge_code(sign_up, client, event, tmp_path):
    import subprocess

    registration = registration_of(sign_up)
    (tmp_path / "qr.png").write_bytes(client.get(f"/events/{event.slug}/p/{registration.secret}/qr.png").data)
    result = subprocess.run(["zbarimg", "--raw", "-q", str(tmp_path / "qr.png")], capture_output=True, text=True)
    assert result.stdout.split() == [badge_code(registration)]


def test_wrong_secret_gets_no_badge(sign_up, client, event):
    registration = registration_of(sign_up)
    wrong = registration.secret[:-1] + ("A" if registration.secret[-1] != "A" else "B")
    for path in ("badge.pdf", "qr.png"):
        assert client.get(f"/events/{event.slug}/p/{wrong}/{path}").status_code == 404


def test_cancelled_registration_has_no_badge(sign_up, client, event):
    registration = registration_of(sign_up)
    cancel(registration)
    for path in ("badge.pdf", "qr.png"):
        assert client.get(f"/events/{event.slug}/p/{registration.secret}/{path}").status_code == 404
    assert "qr.png" not in client.get(f"/events/{event.slug}/p/{registration.secret}").text


def test_anonymous_visitor_is_sent_to_log_in_for_the_organizer_batch(client, event):
    response = client.get(f"/organizer/events/{event.slug}/badges.pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_staff_of_the_event_may_not_print_the_organizer_batch(sign_up, client, event):
    registration_of(sign_up)
    log_in(client, event, "staff")
    assert client.get(f"/organizer/events/{event.slug}/badges.pdf").status_code == 403


def test_organizer_gets_a4_sheets_of_the_chosen_badges(sign_up, client, event):
    registration_of(sign_up, last_name="Бекова", region=str(event.regions[0].id))
    registration_of(sign_up, last_name="Серікова", region=str(event.regions[1].id))
    log_in(client, event, "organizer")
    response = client.get(f"/organizer/events/{event.slug}/badges.pdf?region={event.regions[1].code}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = reader.pages[0].extract_text()
    assert "Серікова" in text and "Бекова" not in text
    assert round(float(reader.pages[0].mediabox.height)) == 842
    assert client.get(f"/organizer/events/{event.slug}/badges.pdf?category=press").status_code == 404
    assert client.get(f"/organizer/events/{event.slug}/badges.pdf?status=cancelled").status_code == 400


def test_organizer_of_another_event_may_not_print_this_ones_badges(sign_up, client, event):
    from eventreg.events.models import Event

    other = Event(slug="other", name_kk="Басқа", name_ru="Другое", name_en="Other",
                  starts_on=event.starts_on, ends_on=event.ends_on)
    db.session.add(other)
    db.session.commit()
    log_in(client, other, "organizer")
    assert client.get(f"/organizer/events/{event.slug}/badges.pdf").status_code == 403
    assert client.get(f"/desk/{event.slug}/").status_code == 403


@pytest.mark.parametrize("role", ["staff", "organizer"])
def test_badge_desk_finds_people_without_showing_iin_phone_or_email(sign_up, client, event, role):
    registration_of(sign_up, iin="000101500001", birth_date="2000-01-01", phone="+7 701 765 43 21",
                    email="private@example.kz")
    log_in(client, event, role)
    page = client.get(f"/desk/{event.slug}/?q=сәрсенбаева")
    assert page.status_code == 200
    assert "Сәрсенбаева Әйгерім Қайратқызы" in page.text
    for secret in ("000101500001", "765 43 21", "7654321", "private@example.kz"):
        assert secret not in page.text
    assert client.get(f"/desk/{event.slug}/?q=000101500001").text.count("Сәрсенбаева Әйгерім") == 1


def test_badge_desk_needs_a_login(client, event):
    response = client.get(f"/desk/{event.slug}/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_desk_print_serves_the_badge_and_logs_who_printed_it(sign_up, client, event):
    registration = registration_of(sign_up)
    log_in(client, event, "staff")
    response = client.get(f"/desk/{event.slug}/{registration.reference}/badge.pdf?size=label62")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    [logged] = prints()
    assert (logged.registration_id, logged.size, logged.reissued) == (registration.id, "label62", False)
    assert logged.user.email == "staff@example.kz"
    assert client.get(f"/desk/{event.slug}/{registration.reference}/badge.pdf?size=cr80").status_code == 404
    assert client.get(f"/desk/{event.slug}/ZZZZZZZZ/badge.pdf").status_code == 404


def test_desk_reprint_with_reissue_invalidates_the_lost_badge(sign_up, client, event):
    registration = registration_of(sign_up)
    lost_code = badge_code(registration)
    log_in(client, event, "staff")
    prefix = registration.reference
    response = client.post(f"/desk/{event.slug}/{registration.reference}/reprint",
                           data={f"{prefix}-size": "a6", f"{prefix}-reissue": "y"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    with pytest.raises(BadgeRejected):
        resolve_code(event, lost_code)
    db.session.refresh(registration)
    assert resolve_code(event, badge_code(registration)).id == registration.id
    [logged] = prints()
    assert logged.reissued is True


def test_desk_reprint_without_reissue_keeps_the_code(sign_up, client, event):
    registration = registration_of(sign_up)
    code = badge_code(registration)
    log_in(client, event, "staff")
    prefix = registration.reference
    client.post(f"/desk/{event.slug}/{registration.reference}/reprint", data={f"{prefix}-size": "a6"})
    assert resolve_code(event, code).id == registration.id
    assert [p.reissued for p in prints()] == [False]


def test_desk_corrects_only_the_name(sign_up, client, event):
    registration = registration_of(sign_up)
    phone, email = registration.phone, registration.email
    log_in(client, event, "staff")
    prefix = registration.reference
    response = client.post(f"/desk/{event.slug}/{registration.reference}/name", data={
        f"{prefix}-last_name": " Сәрсенбай ", f"{prefix}-first_name": "Әйгерім", f"{prefix}-patronymic": "",
        f"{prefix}-latin_name": "Sarsenbay Aigerim", f"{prefix}-phone": "+77000000000",
    })
    assert response.status_code == 303
    db.session.refresh(registration)
    assert (registration.last_name, registration.patronymic, registration.latin_name) == (
        "Сәрсенбай", "", "Sarsenbay Aigerim")
    assert (registration.phone, registration.email) == (phone, email)
    assert registration.search_key.startswith("сәрсенбай әйгерім")


def test_desk_refuses_an_empty_name(sign_up, client, event):
    registration = registration_of(sign_up)
    log_in(client, event, "staff")
    prefix = registration.reference
    response = client.post(f"/desk/{event.slug}/{registration.reference}/name",
                           data={f"{prefix}-last_name": "", f"{prefix}-first_name": "Әйгерім"})
    assert response.status_code == 422
    db.session.refresh(registration)
    assert registration.last_name == "Сәрсенбаева"


def test_desk_forms_need_a_csrf_token(sign_up, app, event):
    registration = registration_of(sign_up)
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    create_or_update_user("staff@example.kz", PASSWORD, "staff", event)
    login_page = client.get("/login")
    token = login_page.text.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": "staff@example.kz", "password": PASSWORD, "csrf_token": token})
    prefix = registration.reference
    response = client.post(f"/desk/{event.slug}/{registration.reference}/reprint",
                           data={f"{prefix}-size": "a6", f"{prefix}-reissue": "y"})
    assert response.status_code == 400
    assert prints() == []
