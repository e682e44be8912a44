"""Emails to participants: kept in the outbox, written in their language when sent, retried.

Every message is committed to the outbox before anything is sent (a sign-up's confirmation in
the sign-up's own transaction): a slow or failing mail server never loses or rolls back a
registration, and `flask send-outbox` retries what could not be sent. The row is small (who,
what about, the site's address); subject, text and badge are made when the message is sent.
"""
import os
import smtplib
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app, has_request_context, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _

from ..db import as_utc, utcnow, write_transaction
from ..extensions import db
from ..registration.models import CANCELLED, CONFIRMED, Registration
from .models import CONFIRMATION, FAILED, PROMOTED, QUEUED, REVIEWED, SENT, OutboxMessage

SKIPPED = "skipped"  # outcome of deliver(): another process is sending it, or it is obsolete

# A send still unfinished after this long has crashed: another run may take the message over.
CLAIM_TIMEOUT = timedelta(minutes=10)

# Bodies go out as base64 or quoted-printable rather than raw 8-bit UTF-8, which relays
# without 8BITMIME would mangle; headers with Kazakh letters are RFC 2047-encoded either way.
EMAIL_POLICY = policy.SMTP.clone(cte_type="7bit")


class ResendRefused(Exception):
    """A resend the rules refuse; code is cancelled, no_email or too_soon."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def confirmation_rows(registration):
    """The confirmation's outbox row, for register(along=...) to commit with the registration.

    Never raises: a message that cannot be written is logged, and the registration goes ahead.
    """
    if not registration.email:
        return []
    try:
        return [_new_message(registration, CONFIRMATION)]
    except Exception:
        current_app.logger.exception("The confirmation of a new registration could not be written")
        return []


def send_soon(messages):
    """Send messages already committed to the outbox: by the sending thread, or now, or leave them
    to send-outbox, as configured. Never raises."""
    for message in messages:
        try:
            _send_if_at_once(message)
        except Exception:
            current_app.logger.exception("Outbox message %s could not be sent", message.id)


def announce_promotions(registrations):
    """Tell each person promoted from the waitlist that they have a place. Never raises."""
    for registration in registrations:
        _notify_safely(registration, PROMOTED)


def announce_review(registration, *, accepted, reason=""):
    """Tell the participant what the organizer decided about their sanitary document. Never raises."""
    _notify_safely(registration, REVIEWED, review={"accepted": accepted, "reason": reason})


def _notify_safely(registration, kind, **details):
    if not registration.email:
        return
    try:
        message = _new_message(registration, kind, **details)
        with write_transaction():
            db.session.add(message)
    except Exception:
        # The person's registration stands; an error page now would only make them sign
        # up again and be told that they are registered already.
        current_app.logger.exception("Email %s about registration %s could not be queued", kind, registration.id)
        return
    send_soon([message])


def resend_confirmation(registration):
    """Queue the participant's confirmation again, with their current status and badge.

    Raises ResendRefused for a cancelled registration, one without an email address, or
    when the last message to this registration was queued less than MAIL_RESEND_INTERVAL
    seconds ago (a button pressed twice, or someone flooding an inbox).
    """
    if not registration.email:
        raise ResendRefused("no_email")
    message = _new_message(registration, CONFIRMATION)
    interval = timedelta(seconds=current_app.config["MAIL_RESEND_INTERVAL"])
    with write_transaction():
        # The row lock (PostgreSQL; SQLite has one writer at a time) makes two quick clicks queue one message.
        locked = db.session.get(Registration, registration.id, with_for_update=True)
        if locked.status == CANCELLED:
            raise ResendRefused("cancelled")
        last = db.session.execute(
            db.select(db.func.max(OutboxMessage.created_at)).where(OutboxMessage.registration_id == locked.id)
        ).scalar()
        if last is not None and as_utc(last) > utcnow() - interval:
            raise ResendRefused("too_soon")
        db.session.add(message)
    _send_if_at_once(message)
    return message


def _new_message(registration, kind, review=None):
    """An outbox row about a registration. Its text is written when it is sent (see _written)."""
    base_url = request.host_url if has_request_context() else current_app.config["PUBLIC_URL"]
    return OutboxMessage(registration_id=registration.id, kind=kind, to_address=registration.email,
                         base_url=base_url, details={"review": review} if review else {})


@dataclass
class _Written:
    subject: str
    body_text: str
    body_html: str
    attach_badge: bool


def _written(message):
    """The message's subject and bodies in the participant's language, for their status now."""
    registration = message.registration
    event = registration.event
    review = (message.details or {}).get("review")
    kind = message.kind
    attach_badge = kind == PROMOTED or (kind == CONFIRMATION and registration.status == CONFIRMED)
    language = registration.language if registration.language in current_app.config["LANGUAGES"] else None
    with force_locale(language or current_app.config["BABEL_DEFAULT_LOCALE"]):
        if kind == REVIEWED:
            subject = (_("%(event)s: your document was accepted", event=event.name) if review["accepted"]
                       else _("%(event)s: your document was not accepted", event=event.name))
        elif kind == PROMOTED:
            subject = _("You got a place at %(event)s", event=event.name)
        elif registration.status == CONFIRMED:
            subject = _("Your registration for %(event)s is confirmed", event=event.name)
        else:
            subject = _("You are on the waitlist for %(event)s", event=event.name)
        context = dict(
            registration=registration, event=event, subject=subject, promoted=kind == PROMOTED, review=review,
            badge=attach_badge, link=_private_link(message.base_url, event, registration),
        )
        body_text = render_template("notifications/registration.txt", **context)
        body_html = render_template("notifications/registration.html", **context)
    return _Written(subject, body_text, body_html, attach_badge)


def _private_link(base_url, event, registration):
    # Built from the URL map, not url_for: the message may be sent where there is no request.
    base = urlsplit(base_url or current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http")
    return adapter.build("registration.private_page", {"slug": event.slug, "secret": registration.secret},
                         force_external=True)


def _send_if_at_once(message):
    if not current_app.config["MAIL_SEND_AT_ONCE"]:
        return
    if current_app.config["MAIL_SEND_IN_BACKGROUND"]:
        _background_sender().submit(_deliver_in_background, current_app._get_current_object(), message.id)
    else:
        deliver(message)


_sender = {"pid": None, "executor": None}


def _background_sender():
    """One sending thread per worker process: the request answers at once while the badge PDF
    is built and the SMTP server is talked to (about 100 ms), and sends never run in parallel
    within a process. A new one after fork(): threads do not survive it."""
    if _sender["pid"] != os.getpid():
        _sender.update(pid=os.getpid(), executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox"))
    return _sender["executor"]


def finish_background_sends():
    """Wait for the emails this process has begun to send (before it exits)."""
    if _sender["pid"] == os.getpid():
        _sender["executor"].shutdown(wait=True)
        _sender.update(pid=None, executor=None)


def _deliver_in_background(app, message_id):
    with app.app_context():
        try:
            message = db.session.get(OutboxMessage, message_id)
            if message is not None:
                deliver(message)
        except Exception:
            # The message stays in the outbox; `flask send-outbox` picks it up.
            app.logger.exception("Background send of outbox message %s failed", message_id)
        finally:
            db.session.remove()


def deliver(message, retry_failed=False):
    """Try to send one message now and record the outcome on it: SENT, FAILED or SKIPPED.

    A failure (server down, address refused, badge not built) is recorded and logged, never
    raised; the message stays queued for `send-outbox` until MAIL_MAX_ATTEMPTS attempts have
    failed, then it is marked failed. Failed messages are tried again only with retry_failed.
    """
    message = _claim(message.id, (QUEUED, FAILED) if retry_failed else (QUEUED,))
    if message is None:
        return SKIPPED
    try:
        written = _written(message)
        _transport(_email(message, written), message)
    except Exception as error:
        # Any error, whatever raised it, must leave the message to the next run.
        _record_failure(message, f"{type(error).__name__}: {error}")
        return FAILED
    with write_transaction():
        message.subject, message.body_text, message.body_html, message.attach_badge = (
            written.subject, written.body_text, written.body_html, written.attach_badge)
        message.status, message.sent_at, message.sending_since, message.last_error = SENT, utcnow(), None, ""
    return SENT


def _claim(message_id, statuses):
    """Take the message for one attempt, or None if it is not to be sent by us now."""
    now = utcnow()
    with write_transaction():
        message = db.session.get(OutboxMessage, message_id, with_for_update=True, populate_existing=True)
        if message is None or message.status not in statuses:
            return None
        if message.sending_since is not None and as_utc(message.sending_since) > now - CLAIM_TIMEOUT:
            return None  # another process is sending it right now
        if message.registration is not None and message.registration.status == CANCELLED:
            # Neither a badge nor a "you have a place" for someone who has cancelled since.
            message.status, message.last_error = FAILED, "registration cancelled before sending"
            return None
        message.sending_since = now
        message.attempts += 1
    return message


def _record_failure(message, error_text):
    with write_transaction():
        message.last_error = error_text[:500]
        message.sending_since = None
        message.status = FAILED if message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"] else QUEUED
    # The address and the text of the error only: messages never contain the IIN.
    current_app.logger.warning("Email %s (%s, registration %s) not sent, attempt %s, now %s: %s",
                               message.id, message.kind, message.registration_id, message.attempts,
                               message.status, message.last_error)


def _email(message, written):
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    email = EmailMessage(policy=EMAIL_POLICY)
    email["Subject"] = written.subject
    email["From"] = sender
    email["To"] = message.to_address
    email["Date"] = format_datetime(utcnow())
    # An explicit domain: without one make_msgid asks DNS for this host's name, which can hang.
    email["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "localhost")
    email.set_content(written.body_text)
    email.add_alternative(written.body_html, subtype="html")
    if written.attach_badge:
        # Imported here: badges.pdf loads WeasyPrint and Pango, which only a process that
        # actually sends a badge needs.
        from ..badges.pdf import badge_pdf

        registration = message.registration
        email.add_attachment(badge_pdf(registration), maintype="application", subtype="pdf",
                             filename=f"badge-{registration.display_reference}.pdf")
    return email


def _transport(email, message):
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "smtp":
        _send_smtp(email)
    elif backend == "file":
        _write_file(email, message)
    else:
        raise ValueError(f"unknown MAIL_BACKEND {backend!r} (use smtp or file)")


def _send_smtp(email):
    config = current_app.config
    # smtplib does not check the server's certificate unless given a default context.
    context = ssl.create_default_context()
    if config["MAIL_USE_SSL"]:
        connection = smtplib.SMTP_SSL(config["MAIL_SERVER"], config["MAIL_PORT"],
                                      timeout=config["MAIL_TIMEOUT"], context=context)
    else:
        connection = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"])
    with connection as smtp:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls(context=context)
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)


def _write_file(email, message):
    """Development: the message as an .eml file in <instance>/outbox/, to open in a mail program."""
    folder = Path(current_app.instance_path) / "outbox"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{utcnow():%Y%m%d-%H%M%S}-{message.id}.eml"
    # Written aside and renamed: whoever watches the folder never sees half a message.
    partial = target.with_suffix(".eml.partial")
    partial.write_bytes(email.as_bytes())
    partial.replace(target)


def send_outbox(retry_failed=False):
    """Try every queued message, oldest first (and the failed ones too with retry_failed).

    Returns (message, outcome) pairs, outcome as for deliver().
    """
    statuses = (QUEUED, FAILED) if retry_failed else (QUEUED,)
    ids = db.session.execute(
        db.select(OutboxMessage.id).where(OutboxMessage.status.in_(statuses))
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    ).scalars().all()
    results = []
    for message_id in ids:
        message = db.session.get(OutboxMessage, message_id)
        results.append((message, deliver(message, retry_failed=retry_failed)))
    return results
