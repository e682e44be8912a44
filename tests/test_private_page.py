"""The participant's private page: view, correct, cancel; a wrong secret is a 404."""
from eventreg.extensions import db
from eventreg.registration.models import CANCELLED, CONFIRMED, WAITLISTED, Registration

from .helpers import sign_up_form


def signed_up(sign_up, **overrides):
    location = sign_up(**overrides).headers["Location"]
    return location.split("?")[0]


def test_private_page_shows_the_participants_data_and_status(sign_up, client):
    page = client.get(signed_up(sign_up, iin="000101500001", birth_date="2000-01-01") + "?lang=en")
    assert page.status_code == 200
    assert "Сәрсенбаева Әйгерім Қайратқызы" in page.text
    assert "000101500001" in page.text
    assert "Your place is confirmed" in page.text


def test_wrong_secret_is_404(sign_up, client, event):
    url = signed_up(sign_up)
    assert client.get(url[:-1] + ("A" if url[-1] != "A" else "B")).status_code == 404
    assert client.get(f"/events/{event.slug}/p/1").status_code == 404
    assert client.get(f"/events/{event.slug}/p/{'x' * 500}").status_code == 404


def test_secret_of_one_event_does_not_open_another_event(sign_up, client, event):
    from eventreg.events.models import Event
    other = Event(slug="other", name_kk="Басқа", name_ru="Другое", name_en="Other",
                  starts_on=event.starts_on, ends_on=event.ends_on)
    db.session.add(other)
    db.session.commit()
    secret = signed_up(sign_up).rsplit("/", 1)[1]
    assert client.get(f"/events/other/p/{secret}").status_code == 404


def test_participant_corrects_their_details(sign_up, client, event):
    url = signed_up(sign_up)
    form = sign_up_form(event, last_name="Нұрланова", phone="+7 777 111 22 33")
    response = client.post(url + "/edit", data=form)
    assert response.status_code == 303
    registration = db.session.execute(db.select(Registration)).scalar_one()
    assert registration.last_name == "Нұрланова"
    assert registration.phone == "+77771112233"
    assert registration.search_key.startswith("нұрланова")


def test_correction_with_bad_input_changes_nothing(sign_up, client, event):
    url = signed_up(sign_up)
    response = client.post(url + "/edit", data=sign_up_form(event, last_name="Нұрланова", iin="000101500002"))
    assert response.status_code == 422
    assert db.session.execute(db.select(Registration.last_name)).scalar_one() == "Сәрсенбаева"


def test_correction_to_another_participants_email_is_refused(sign_up, client, event):
    sign_up(email="taken@example.kz")
    url = signed_up(sign_up)
    response = client.post(url + "/edit", data=sign_up_form(event, email="taken@example.kz"))
    assert response.status_code == 409 and "already registered" in response.text


def test_cancel_needs_confirmation(sign_up, client):
    url = signed_up(sign_up)
    assert client.post(url + "/cancel", data={}).status_code == 422
    assert db.session.execute(db.select(Registration.status)).scalar_one() == CONFIRMED


def test_cancellation_promotes_the_first_person_on_the_waitlist(sign_up, client, event):
    event.capacity = 1
    db.session.commit()
    first = signed_up(sign_up)
    sign_up(last_name="Екінші")
    sign_up(last_name="Үшінші")
    response = client.post(first + "/cancel", data={"confirm": "y"})
    assert response.status_code == 303
    statuses = dict(db.session.execute(db.select(Registration.last_name, Registration.status)).all())
    assert statuses == {"Сәрсенбаева": CANCELLED, "Екінші": CONFIRMED, "Үшінші": WAITLISTED}
    db.session.refresh(event)
    assert event.confirmed_count == 1


def test_cancelled_registration_cannot_be_edited_or_cancelled_twice(sign_up, client, event):
    url = signed_up(sign_up)
    client.post(url + "/cancel", data={"confirm": "y"})
    assert client.get(url + "/edit").status_code == 404
    client.post(url + "/cancel", data={"confirm": "y"})
    db.session.refresh(event)
    assert event.confirmed_count == 0
