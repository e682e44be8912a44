"""The public sign-up form and the rules behind it."""
from datetime import date, timedelta

import pytest

from eventreg.db import utcnow
from eventreg.extensions import db
from eventreg.registration.models import CONFIRMED, WAITLISTED, Registration

from .helpers import make_iin


def registrations(event):
    query = db.select(Registration).filter_by(event_id=event.id).order_by(Registration.id)
    return db.session.execute(query).scalars().all()


def test_sign_up_stores_the_participant_and_redirects_to_the_private_page(sign_up, event, client):
    response = sign_up(phone="8 701 234 56 78", email="Aigerim@Example.KZ ")
    assert response.status_code == 303
    [registration] = registrations(event)
    assert response.headers["Location"].endswith(f"/events/{event.slug}/p/{registration.secret}?new=1")
    assert registration.status == CONFIRMED
    assert registration.phone == "+77012345678"
    assert registration.email == "aigerim@example.kz"
    assert registration.sex == "F"
    assert registration.consent_at is not None and registration.consent_version
    assert registration.iin_warnings == ""
    assert registration.search_key == "сәрсенбаева әйгерім қайратқызы"
    page = client.get(response.headers["Location"])
    assert "Сәрсенбаева Әйгерім" in page.text


def test_reference_and_secret_are_short_readable_and_long_unguessable(sign_up, event):
    sign_up()
    [registration] = registrations(event)
    assert len(registration.reference) == 8 and not set(registration.reference) & set("01OIL")
    assert len(registration.secret) >= 32


@pytest.mark.parametrize("iin, message", [
    ("000101500002", "check digit"),
    ("000101500221", "check digit"),
    ("050229600003", "real date of birth"),
    ("000101700004", "7th digit"),
    ("12345", "exactly 12 digits"),
    ("12345678901x", "digits only"),
])
def test_bad_iin_is_refused_next_to_the_field(sign_up, event, iin, message):
    response = sign_up(iin=iin)
    assert response.status_code == 422
    assert message in response.text
    assert 'id="iin-error"' in response.text
    assert registrations(event) == []


@pytest.mark.parametrize("iin", ["000101500001", "950501400007", "000101500206", "061211600012"])
def test_sample_iins_from_domain_reference_are_accepted(sign_up, event, iin):
    info_birth = {"000101500001": "2000-01-01", "950501400007": "1995-05-01",
                  "000101500206": "2000-01-01", "061211600012": "2006-12-11"}[iin]
    response = sign_up(iin=iin, birth_date=info_birth, guardian_name="Қайрат Сәрсенбаев", guardian_consent="y")
    assert response.status_code == 303


def test_iin_birth_date_mismatch_is_accepted_but_flagged_for_the_organizer(sign_up, event):
    response = sign_up(iin="000101500001", birth_date="2000-01-02")
    assert response.status_code == 303
    [registration] = registrations(event)
    assert registration.warnings == ["birth_date_mismatch"]
    assert registration.birth_date == date(2000, 1, 2)


def test_iin_is_optional_and_then_sex_is_taken_as_declared(sign_up, event):
    assert sign_up(iin="", sex="M").status_code == 303
    [registration] = registrations(event)
    assert (registration.iin, registration.sex) == (None, "M")


@pytest.mark.parametrize("phone", ["12345", "+7 701 23", "not a phone", ""])
def test_bad_phone_is_refused(sign_up, event, phone):
    response = sign_up(phone=phone)
    assert response.status_code == 422
    assert 'id="phone-error"' in response.text
    assert registrations(event) == []


def test_bad_email_is_refused(sign_up, event):
    response = sign_up(email="not-an-email")
    assert response.status_code == 422 and 'id="email-error"' in response.text
    assert registrations(event) == []


def test_missing_consent_is_refused(sign_up, event):
    response = sign_up(consent=None)
    assert response.status_code == 422
    assert "consent to the processing of personal data" in response.text
    assert 'id="consent-error"' in response.text
    assert registrations(event) == []


def test_minor_without_guardian_consent_is_refused(sign_up, event):
    birth = event.starts_on - timedelta(days=365 * 16)
    response = sign_up(iin=make_iin(birth, "M"), birth_date=birth.isoformat())
    assert response.status_code == 422
    assert "consent of a parent or guardian" in response.text
    assert registrations(event) == []


def test_minor_with_guardian_consent_is_registered_and_the_consent_recorded(sign_up, event):
    birth = event.starts_on - timedelta(days=365 * 16)
    response = sign_up(iin=make_iin(birth, "M"), birth_date=birth.isoformat(),
                       guardian_name="Сәрсенбаев Қайрат", guardian_consent="y")
    assert response.status_code == 303
    [registration] = registrations(event)
    assert registration.guardian_name == "Сәрсенбаев Қайрат" and registration.guardian_consent_at


def test_eighteen_on_the_first_day_of_the_event_is_an_adult(sign_up, event):
    birth = event.starts_on.replace(year=event.starts_on.year - 18)
    assert sign_up(iin=make_iin(birth, "F"), birth_date=birth.isoformat()).status_code == 303


def test_duplicate_iin_gets_a_clear_message_and_no_second_record(sign_up, event):
    iin = make_iin(date(2000, 3, 15), "F")
    assert sign_up(iin=iin).status_code == 303
    response = sign_up(iin=iin)
    assert response.status_code == 409
    assert "already registered" in response.text
    assert len(registrations(event)) == 1


def test_duplicate_email_in_another_case_gets_a_clear_message(sign_up, event):
    assert sign_up(email="same@example.kz").status_code == 303
    response = sign_up(email="SAME@example.kz")
    assert response.status_code == 409 and "already registered" in response.text
    assert len(registrations(event)) == 1


def test_closed_registration_says_so_and_refuses_the_post(sign_up, client, event):
    event.registration_closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert "Registration for this event is closed" in client.get(f"/events/{event.slug}/register?lang=en").text
    response = sign_up()
    assert response.status_code == 409
    assert registrations(event) == []


def test_registration_not_yet_open_says_so(client, event):
    event.registration_opens_at = utcnow() + timedelta(days=1)
    db.session.commit()
    assert "has not opened yet" in client.get(f"/events/{event.slug}/register?lang=en").text


def test_full_event_puts_the_next_person_on_the_waitlist(sign_up, client, event):
    event.capacity = 1
    db.session.commit()
    sign_up()
    assert "join the waitlist" in client.get(f"/events/{event.slug}/register?lang=en").text
    sign_up()
    assert [r.status for r in registrations(event)] == [CONFIRMED, WAITLISTED]


def test_full_category_waitlists_even_with_room_in_the_event(sign_up, event):
    leader = next(c for c in event.categories if c.code == "group_leader")
    leader.capacity = 1
    db.session.commit()
    sign_up(category=str(leader.id))
    sign_up(category=str(leader.id))
    sign_up()  # a volunteer still gets a place
    assert [r.status for r in registrations(event)] == [CONFIRMED, WAITLISTED, CONFIRMED]


def test_the_form_says_which_categories_are_full_before_one_is_chosen(sign_up, client, event):
    leader = next(c for c in event.categories if c.code == "group_leader")
    leader.capacity = 1
    db.session.commit()
    page = client.get(f"/events/{event.slug}/register?lang=en").text
    assert "no places left" not in page
    sign_up(category=str(leader.id))
    page = client.get(f"/events/{event.slug}/register?lang=en").text
    assert f'<option value="{leader.id}">Group leader (no places left: waitlist)</option>' in page
    assert page.count("no places left") == 1  # the volunteers still have places
    assert "Топ жетекшісі (орын қалмады: күту тізімі)" in client.get(f"/events/{event.slug}/register?lang=kk").text


def test_full_event_without_consent_to_the_waitlist_is_refused(sign_up, event):
    event.capacity = 0
    db.session.commit()
    response = sign_up(accept_waitlist=None)
    assert response.status_code == 409 and "waitlist" in response.text
    assert registrations(event) == []


def test_categories_reserved_for_organizers_cannot_be_chosen(sign_up, event):
    guest = next(c for c in event.categories if c.code == "guest")
    response = sign_up(category=str(guest.id))
    assert response.status_code == 422
    assert registrations(event) == []


def test_region_of_another_event_is_refused(sign_up, event):
    response = sign_up(region="999999")
    assert response.status_code == 422
    assert registrations(event) == []


def test_unknown_event_is_404(client):
    assert client.get("/events/no-such-event/register").status_code == 404


def test_a_region_added_later_appears_in_the_form_at_once(client, event):
    from eventreg.events.models import Region

    assert "Абай облысы" not in client.get(f"/events/{event.slug}/register?lang=kk").text  # cached now
    event.regions.append(Region(code="ABA", name_kk="Абай облысы", name_ru="область Абай",
                                name_en="Abai Region", position=20))
    db.session.commit()
    assert "Абай облысы" in client.get(f"/events/{event.slug}/register?lang=kk").text


def test_a_category_closed_to_the_public_later_is_refused(sign_up, event):
    volunteer = next(c for c in event.categories if c.code == "volunteer")
    sign_up()  # the options are cached now
    volunteer.self_registration = False
    db.session.commit()
    assert sign_up().status_code == 422
