"""Staff login: sessions, mistakes, and the limit on guessing."""
from eventreg.auth.service import create_or_update_user

from .conftest import make_app


def test_staff_logs_in_and_out(client, event):
    create_or_update_user("staff@example.kz", "staff password 1", "staff", event)
    response = client.post("/login?next=/checkin/asyl-jurek-2021/",
                           data={"email": "Staff@Example.kz", "password": "staff password 1"})
    assert response.status_code == 303 and response.headers["Location"] == "/checkin/asyl-jurek-2021/"
    assert client.get("/checkin/asyl-jurek-2021/").status_code == 200
    assert client.post("/logout").status_code == 303
    assert client.get("/checkin/asyl-jurek-2021/").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_answer(client, event):
    create_or_update_user("staff@example.kz", "staff password 1", "staff", event)
    wrong = client.post("/login", data={"email": "staff@example.kz", "password": "nope nope nope"})
    unknown = client.post("/login", data={"email": "nobody@example.kz", "password": "nope nope nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password" in wrong.text and "Wrong email or password" in unknown.text


def test_login_never_redirects_to_another_site(client, event):
    create_or_update_user("staff@example.kz", "staff password 1", "staff", event)
    response = client.post("/login?next=//evil.example/", data={"email": "staff@example.kz",
                                                                 "password": "staff password 1"})
    assert response.headers["Location"] == "/"


def test_staff_of_another_event_gets_403(client, event):
    from eventreg.events.models import Event
    from eventreg.extensions import db

    other = Event(slug="other", name_kk="Басқа", name_ru="Другое", name_en="Other",
                  starts_on=event.starts_on, ends_on=event.ends_on)
    db.session.add(other)
    db.session.commit()
    create_or_update_user("outsider@example.kz", "outsider password", "staff", other)
    client.post("/login", data={"email": "outsider@example.kz", "password": "outsider password"})
    assert client.get(f"/checkin/{event.slug}/").status_code == 403


def test_guessing_passwords_is_rate_limited(app, event):
    limited = make_app(app.config["SQLALCHEMY_DATABASE_URI"], LOGIN_RATE_LIMIT="3 per minute")
    client = limited.test_client()
    answers = [client.post("/login", data={"email": "a@example.kz", "password": "guess guess"}).status_code
               for _ in range(5)]
    assert answers == [401, 401, 401, 429, 429]


def test_sign_up_from_one_address_is_rate_limited(app, event):
    from .helpers import sign_up_form

    limited = make_app(app.config["SQLALCHEMY_DATABASE_URI"], SIGNUP_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    answers = [client.post(f"/events/{event.slug}/register", data=sign_up_form(event)).status_code
               for _ in range(3)]
    assert answers == [303, 303, 429]
    assert client.get(f"/events/{event.slug}/register").status_code == 200  # reading the form is not limited
