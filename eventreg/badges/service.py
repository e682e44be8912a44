"""Badge codes for registrations: issue, reissue, and resolve a scanned code."""
from flask import current_app
from sqlalchemy import update

from ..extensions import db
from ..registration.models import Registration
from . import credential


class BadgeRejected(Exception):
    """A scanned code that names no valid badge of this event; reason says why."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason  # malformed, other_event, bad_signature, unknown_version, unknown, reissued


def badge_code(registration):
    """The text of the registration's current badge QR code."""
    return credential.encode(current_app.config["SECRET_KEY"], credential.BadgeCode(
        registration.event_id, registration.id, registration.badge_generation))


def event_public_key(event):
    return credential.public_key_bytes(current_app.config["SECRET_KEY"], event.id)


def resolve_code(event, code, for_update=False):
    """The registration a scanned badge code (or a typed reference) belongs to, for this event.

    Raises BadgeRejected for anything that is not a current badge of this event: a forged or
    damaged code, a code of another event, or an older code of a reissued badge. With
    for_update, the registration row stays locked until the transaction ends (PostgreSQL).
    """
    code = (code or "").strip()
    if not code.upper().startswith(credential.PREFIX):
        return _by_reference(event, code, for_update)
    try:
        decoded = credential.decode(current_app.config["SECRET_KEY"], code, event.id)
    except credential.InvalidCode as invalid:
        raise BadgeRejected(str(invalid)) from None
    query = db.select(Registration).where(Registration.id == decoded.registration_id,
                                          Registration.event_id == event.id)
    registration = db.session.execute(query.with_for_update() if for_update else query).scalar_one_or_none()
    if registration is None:
        raise BadgeRejected("unknown")
    if decoded.generation != registration.badge_generation:
        raise BadgeRejected("reissued")
    return registration


def _by_reference(event, text, for_update):
    reference = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(reference) != 8:
        raise BadgeRejected("malformed")
    query = db.select(Registration).filter_by(event_id=event.id, reference=reference)
    registration = db.session.execute(query.with_for_update() if for_update else query).scalar_one_or_none()
    if registration is None:
        raise BadgeRejected("unknown")
    return registration


def reissue(registration):
    """A new badge code for a lost badge; every earlier code of this registration is refused from now on."""
    db.session.execute(
        update(Registration).where(Registration.id == registration.id)
        .values(badge_generation=Registration.badge_generation + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(registration)
    return badge_code(registration)
