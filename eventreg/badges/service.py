"""Badge codes for registrations (issue, reissue, resolve a scanned code) and the badge desk's rules."""
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, func, update
from sqlalchemy.orm import joinedload

from ..db import utcnow, write_transaction
from ..events.models import Category, Region
from ..extensions import db
from ..registration.models import CANCELLED, CONFIRMED, Registration
from ..text import collation_key
from . import credential
from .models import BadgePrint


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


@cache
def lookup_condition(by_reference):
    """See CodeLookup.condition."""
    if by_reference:
        return (Registration.event_id == bindparam("event_id")) & (Registration.reference == bindparam("reference"))
    # The primary key alone, and the event checked on the row (CodeLookup.check): with the event in the
    # condition too, PostgreSQL with stale statistics (after a bulk import) chose the index on event_id
    # and walked every participant of the event to find one.
    return Registration.id == bindparam("registration_id")


class CodeLookup:
    """What a scanned badge code (or a typed reference) names, before the database is asked:
    the condition that finds the registration, and the check its row must then pass."""

    def __init__(self, registration_id=None, generation=None, reference=None):
        self.registration_id, self.generation, self.reference = registration_id, generation, reference

    @property
    def by_reference(self):
        return self.reference is not None

    def condition(self):
        """The WHERE that finds the registration, with bind parameters (params()): one statement per kind,
        built once (the door runs it on every scan)."""
        return lookup_condition(self.by_reference)

    def params(self, event_id):
        return {"event_id": event_id, "registration_id": self.registration_id, "reference": self.reference}

    def check(self, registration, event_id):
        """The registration itself, or BadgeRejected when it is missing, of another event or the badge
        was reissued."""
        if registration is None or registration.event_id != event_id:
            raise BadgeRejected("unknown")
        if self.generation is not None and self.generation != registration.badge_generation:
            raise BadgeRejected("reissued")
        return registration


def read_code(event, code):
    """A CodeLookup for a scanned code or typed reference, checked without the database.

    Raises BadgeRejected for anything that cannot be a badge of this event: a forged or
    damaged code, a code of another event, a reference of the wrong length.
    """
    code = (code or "").strip()
    if not code.upper().startswith(credential.PREFIX):
        reference = "".join(ch for ch in code.upper() if ch.isalnum())
        if len(reference) != 8:
            raise BadgeRejected("malformed")
        return CodeLookup(reference=reference)
    try:
        decoded = credential.decode(current_app.config["SECRET_KEY"], code, event.id)
    except credential.InvalidCode as invalid:
        raise BadgeRejected(str(invalid)) from None
    return CodeLookup(registration_id=decoded.registration_id, generation=decoded.generation)


def resolve_code(event, code, for_update=False):
    """The registration a scanned badge code (or a typed reference) belongs to, for this event.

    Raises BadgeRejected for anything that is not a current badge of this event: a forged or
    damaged code, a code of another event, or an older code of a reissued badge. With
    for_update, the registration row stays locked until the transaction ends (PostgreSQL).
    """
    wanted = read_code(event, code)
    query = db.select(Registration).where(wanted.condition())
    if for_update:
        query = query.with_for_update()
    return wanted.check(db.session.execute(query, wanted.params(event.id)).scalar_one_or_none(), event.id)


def reissue(registration):
    """A new badge code for a lost badge; every earlier code of this registration is refused from now on."""
    db.session.execute(
        update(Registration).where(Registration.id == registration.id)
        # updated_at moves too: scanning devices download what changed since their last copy.
        .values(badge_generation=Registration.badge_generation + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(registration)
    return badge_code(registration)


def has_badge(registration):
    """Everyone registered gets a badge, waitlisted people too (the door decides admission);
    a cancelled registration has none."""
    return registration.status != CANCELLED


def get_by_reference(event, reference):
    """The registration of this event with this reference (as printed, with or without the dash)."""
    reference = "".join(ch for ch in (reference or "").upper() if ch.isalnum())
    if len(reference) != 8:
        return None
    return db.session.execute(
        db.select(Registration).filter_by(event_id=event.id, reference=reference)
    ).scalar_one_or_none()


def record_print(registration, user, size, reissue_code=False):
    """Log a badge printed at the desk, reissuing the code first when asked (a lost badge)."""
    if reissue_code:
        reissue(registration)
    with write_transaction():
        db.session.add(BadgePrint(registration_id=registration.id, user_id=user.id, size=size,
                                  reissued=reissue_code))


def print_counts(registrations):
    """How many badges the desk has printed for each of these registrations, by registration id."""
    ids = [r.id for r in registrations]
    if not ids:
        return {}
    rows = db.session.execute(
        db.select(BadgePrint.registration_id, func.count()).where(BadgePrint.registration_id.in_(ids))
        .group_by(BadgePrint.registration_id)
    ).all()
    return dict.fromkeys(ids, 0) | dict(rows)


def fix_name(registration, last_name, first_name, patronymic="", latin_name=""):
    """Correct the name printed on a badge (a typo seen at the desk); nothing else changes."""
    registration_id = registration.id
    with write_transaction():
        registration = db.session.get(Registration, registration_id)
        registration.last_name, registration.first_name, registration.patronymic, registration.latin_name = (
            " ".join((value or "").split()) for value in (last_name, first_name, patronymic, latin_name))
        registration.refresh_search_key()
    return registration


def batch(event, region=None, category=None, status=CONFIRMED, language="kk"):
    """Registrations whose badges an organizer prints in one go, sorted as they are handed out:
    by region (delegation) name, then by surname and name, in Kazakh/Russian alphabetical order.

    `region` and `category` are codes, None for all; `status` is confirmed or waitlisted
    (cancelled registrations have no badge).
    """
    query = (db.select(Registration)
             .options(joinedload(Registration.region), joinedload(Registration.category))
             .where(Registration.event_id == event.id, Registration.status == status))
    if region:
        query = query.join(Region, Registration.region_id == Region.id).where(Region.code == region)
    if category:
        query = query.join(Category, Registration.category_id == Category.id).where(Category.code == category)
    registrations = db.session.execute(query).scalars().all()
    return sorted(registrations, key=lambda r: (
        r.region is None, collation_key(r.region.name_in(language) if r.region else ""),
        r.sort_key, r.id))
