"""Confirmation emails: through a real SMTP server, in the participant's language, with the badge,
kept in the outbox when the server is down and sent later by `flask send-outbox`."""
import email
import socket
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask_babel import force_locale, gettext

from eventreg.db import utcnow
from eventreg.extensions import db
from eventreg.notifications import service
from eventreg.notifications.models import CONFIRMATION, FAILED, PROMOTED, QUEUED, SENT, OutboxMessage
from eventreg.registration.models import Registration

from .conftest import make_app
from .helpers import see_committed, sign_up_form


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps what arrives."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"

    @property
    def messages(self):
        return [email.message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


class MailServer:
    def __init__(self, port):
        self.port = port
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port)

    def __enter__(self):
        self.controller.start()
        return self.inbox

    def __exit__(self, *exc_info):
        self.controller.stop()


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def inbox(smtp_port):
    with MailServer(smtp_port) as inbox:
        yield inbox


@pytest.fixture
def make_mail_app(app, smtp_port):
    """Apps on the test database sending through SMTP on smtp_port (the `inbox` server, if started)."""
    made = []

    def make(**overrides):
        made.append(make_app(app.config["SQLALCHEMY_DATABASE_URI"], MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1",
                             MAIL_PORT=smtp_port, MAIL_TIMEOUT=5, **overrides))
        return made[-1]

    yield make
    for mail_app in made:
        with mail_app.app_context():
            db.engine.dispose()


@pytest.fixture
def mail_app(make_mail_app):
    return make_mail_app()


@pytest.fixture
def mail_client(mail_app):
    return mail_app.test_client()


def sign_up_through(client, event, **overrides):
    form = sign_up_form(event, **overrides)
    response = client.post(f"/events/{event.slug}/register", data=form)
    assert response.status_code == 303, response.text
    return db.session.execute(db.select(Registration).filter_by(email=form["email"])).scalar_one()


def outbox():
    return db.session.execute(db.select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()


def attachments(message):
    return [(part.get_content_type(), part.get_filename(), part.get_content()) for part in message.iter_attachments()]


def send_outbox(app, *options):
    # The test body runs in another app's context, which the command would use otherwise.
    with app.app_context():
        return app.test_cli_runner().invoke(args=["send-outbox", *options])


def private_link(event, registration):
    return f"http://localhost/events/{event.slug}/p/{registration.secret}"


@pytest.mark.parametrize("language, status_line, event_name", [
    ("kk", "Орныңыз расталды.", "«Асыл жүрек» республикалық волонтерлар слеті"),
    ("ru", "Ваше место подтверждено.", "Республиканский слет волонтеров «Асыл жүрек»"),
    ("en", "Your place is confirmed.", "“Asyl jurek” Republican Volunteer Slet"),
])
def test_sign_up_emails_a_confirmation_in_the_participants_language_with_link_and_badge(
        mail_client, event, inbox, language, status_line, event_name):
    registration = sign_up_through(mail_client, event, language=language)
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == [registration.email]
    [message] = inbox.messages
    with force_locale(language):
        expected_subject = gettext("Your registration for %(event)s is confirmed", event=event_name)
    assert message["Subject"] == expected_subject
    text = message.get_body(("plain",)).get_content()
    assert "Әйгерім" in text and status_line in text and event_name in text
    assert private_link(event, registration) in text
    assert f'href="{private_link(event, registration)}"' in message.get_body(("html",)).get_content()
    [(content_type, filename, pdf)] = attachments(message)
    assert content_type == "application/pdf" and filename.endswith(".pdf")
    assert pdf.startswith(b"%PDF")
    [row] = outbox()
    assert (row.kind, row.status, row.attempts, row.sent_at is not None) == (CONFIRMATION, SENT, 1, True)


def test_the_email_never_contains_the_iin(mail_client, event, inbox):
    registration = sign_up_through(mail_client, event, iin="000101500001", birth_date="2000-01-01")
    assert registration.iin.encode() not in inbox.envelopes[0].content
    assert registration.iin not in outbox()[0].body_text


def test_waitlisted_person_gets_the_waitlist_wording_and_no_badge(mail_client, event, inbox):
    event.capacity = 0
    db.session.commit()
    sign_up_through(mail_client, event, language="kk")
    [message] = inbox.messages
    text = message.get_body(("plain",)).get_content()
    assert "Сіз күту тізіміндесіз." in text
    assert attachments(message) == []


def test_promoted_person_is_told_they_got_a_place_with_the_badge(mail_client, event, inbox):
    event.capacity = 1
    db.session.commit()
    first = sign_up_through(mail_client, event)
    second = sign_up_through(mail_client, event, language="ru")
    response = mail_client.post(f"/events/{event.slug}/p/{first.secret}/cancel", data={"confirm": "y"})
    assert response.status_code == 303
    assert [e.rcpt_tos for e in inbox.envelopes] == [[first.email], [second.email], [second.email]]
    promotion = inbox.messages[-1]
    with force_locale("ru"):
        assert promotion["Subject"] == gettext("You got a place at %(event)s", event=event.name_ru)
    [(content_type, _, pdf)] = attachments(promotion)
    assert content_type == "application/pdf" and pdf.startswith(b"%PDF")
    assert outbox()[-1].kind == PROMOTED


def test_smtp_server_down_keeps_the_registration_and_send_outbox_delivers_later(
        mail_app, mail_client, event, smtp_port, caplog, monkeypatch):
    # Alembic's logging setup (migrations/env.py, run by the migration tests) disables existing loggers.
    monkeypatch.setattr(mail_app.logger, "disabled", False)
    registration = sign_up_through(mail_client, event)
    assert registration.status == "confirmed"
    [row] = outbox()
    assert (row.status, row.attempts) == (QUEUED, 1)
    assert "ConnectionRefusedError" in row.last_error
    assert "not sent" in caplog.text and registration.iin not in caplog.text

    with MailServer(smtp_port) as inbox:
        result = send_outbox(mail_app)
    assert result.exit_code == 0, result.output
    assert "Sent 1, failed 0" in result.output
    [message] = inbox.messages
    assert private_link(event, registration) in message.get_body(("plain",)).get_content()
    assert attachments(message)[0][2].startswith(b"%PDF")
    see_committed()
    [row] = outbox()
    assert (row.status, row.attempts) == (SENT, 2)


def test_send_outbox_fails_while_the_server_is_down_and_gives_up_after_the_last_attempt(
        make_mail_app, mail_client, event, smtp_port):
    sign_up_through(mail_client, event)  # first attempt, failed
    cron = make_mail_app(MAIL_MAX_ATTEMPTS=2)
    result = send_outbox(cron)
    assert result.exit_code == 1
    assert "Sent 0, failed 1" in result.output and "ConnectionRefusedError" in result.output
    see_committed()
    [row] = outbox()
    assert (row.status, row.attempts) == (FAILED, 2)

    assert send_outbox(cron).output.strip() == "Sent 0, failed 0, skipped 0."
    with MailServer(smtp_port) as inbox:
        result = send_outbox(cron, "--retry-failed")
    assert result.exit_code == 0 and len(inbox.envelopes) == 1


def test_a_message_is_sent_once_even_if_delivered_twice(mail_client, event, inbox):
    sign_up_through(mail_client, event)
    [row] = outbox()
    with mail_client.application.app_context():
        assert service.deliver(row) == service.SKIPPED
    assert len(inbox.envelopes) == 1


def test_resend_is_refused_within_a_minute_of_the_last_message_then_sent(mail_client, event, inbox):
    registration = sign_up_through(mail_client, event)
    url = f"/events/{event.slug}/p/{registration.secret}/resend"
    page = mail_client.post(url, follow_redirects=True)
    assert "less than a minute ago" in page.text
    assert len(outbox()) == 1 and len(inbox.envelopes) == 1

    outbox()[0].created_at = utcnow() - timedelta(seconds=61)
    db.session.commit()
    page = mail_client.post(url, follow_redirects=True)
    assert f"on its way to {registration.email}" in page.text
    assert len(outbox()) == 2 and len(inbox.envelopes) == 2
    assert attachments(inbox.messages[1])[0][0] == "application/pdf"


def test_private_page_offers_the_resend_button_until_the_registration_is_cancelled(client, sign_up, event):
    secret = sign_up().headers["Location"].split("/p/")[1].split("?")[0]
    page = f"/events/{event.slug}/p/{secret}"
    assert f'action="{page}/resend"' in client.get(page).text
    client.post(f"{page}/cancel", data={"confirm": "y"})
    assert "/resend" not in client.get(page).text
    outbox()[0].created_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert "can no longer be changed" in client.post(f"{page}/resend", follow_redirects=True).text
    assert len(outbox()) == 1


def test_file_backend_writes_an_eml_file_into_the_instance_folder(app, sign_up, event):
    sign_up(language="kk")
    [eml] = (Path(app.instance_path) / "outbox").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert "«Асыл жүрек» республикалық волонтерлар слеті" in message["Subject"]
    assert "Әйгерім" in message.get_body(("plain",)).get_content()
    assert attachments(message)[0][2].startswith(b"%PDF")


def test_with_send_at_once_off_sign_up_only_queues_and_send_outbox_sends(make_mail_app, event, smtp_port):
    queue_only = make_mail_app(MAIL_SEND_AT_ONCE=False)
    sign_up_through(queue_only.test_client(), event)
    [row] = outbox()
    assert (row.status, row.attempts) == (QUEUED, 0)
    with MailServer(smtp_port) as inbox:
        assert send_outbox(queue_only).exit_code == 0
    assert len(inbox.envelopes) == 1


def test_in_production_the_email_is_written_and_sent_after_the_response(app, event, tmp_path):
    """The worker's sending thread builds the message and its badge after the sign-up has answered."""
    import time
    from pathlib import Path

    from .conftest import make_app
    from .helpers import see_committed, sign_up_form

    background = make_app(app.config["SQLALCHEMY_DATABASE_URI"], MAIL_SEND_IN_BACKGROUND=True, MAIL_BACKEND="file")
    response = background.test_client().post(f"/events/{event.slug}/register", data=sign_up_form(event))
    assert response.status_code == 303
    outbox = Path(background.instance_path) / "outbox"
    for _ in range(100):
        if outbox.exists() and list(outbox.glob("*.eml")):
            break
        time.sleep(0.1)
    [eml] = list(outbox.glob("*.eml"))
    assert b"application/pdf" in eml.read_bytes()
    from eventreg.notifications.models import SENT, OutboxMessage
    for _ in range(50):  # the thread records the send just after writing the file
        see_committed()
        if db.session.execute(db.select(OutboxMessage.status)).scalar_one() == SENT:
            break
        time.sleep(0.1)
    assert db.session.execute(db.select(OutboxMessage.status)).scalar_one() == SENT
    with background.app_context():
        # The sending thread's pooled connection would outlive the test (and a later test's database file).
        db.engine.dispose()
