"""Deciding a scan at a checkpoint: who this is, whether they may enter here, and counting it once.

One function, check_in(), serves the scanner page (through the JSON API), scanner apps and tests.
Exactly-once holds in the database: the scan_id is unique per event (a resent scan gets its first
answer back), and the decision for one person is taken while holding their registration row
(PostgreSQL: SELECT ... FOR UPDATE; SQLite: the write lock of BEGIN IMMEDIATE).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import format_time
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from ..audit import record
from ..badges.service import BadgeRejected, resolve_code
from ..db import as_utc, utcnow, write_transaction
from ..extensions import db
from ..registration.models import CANCELLED, WAITLISTED, Registration
from ..registration.validators import mask_iin
from .models import IN, OUT, Checkpoint, Presence, Scan

UNDO_WINDOW = timedelta(minutes=2)
NEAR_CAPACITY = 0.9
# A scan dated further ahead than this (a device clock gone wrong) is taken as made now.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class Outcome:
    """The answer to a scan: what the device shows, and the HTTP status the API gives it."""

    status: int
    body: dict

    @property
    def result(self):
        return self.body["result"]


class ScanRefused(Exception):
    """A request that is not a scan we can decide (bad scan_id, unknown checkpoint)."""

    def __init__(self, status, result):
        super().__init__(result)
        self.status = status
        self.result = result


def checkpoints(event):
    return db.session.execute(
        db.select(Checkpoint).filter_by(event_id=event.id).order_by(Checkpoint.position, Checkpoint.id)
    ).scalars().all()


def get_checkpoint(event, code):
    return db.session.execute(
        db.select(Checkpoint).filter_by(event_id=event.id, code=code)
    ).scalar_one_or_none()


def participant_card(registration, language="kk"):
    """What the door sees of a person: never the IIN in full, the phone or the email."""
    category = registration.category
    return {
        "name": registration.full_name,
        "reference": registration.display_reference,
        "category": category.name_in(language),
        "category_color": category.badge_color,
        "region": registration.region.name_in(language) if registration.region else "",
        "iin_masked": mask_iin(registration.iin),
        "status": registration.status,
    }


def zone_headcount(checkpoint):
    return db.session.execute(
        db.select(func.count()).select_from(Presence).where(Presence.checkpoint_id == checkpoint.id)
    ).scalar()


def zone_card(checkpoint, language="kk"):
    headcount = zone_headcount(checkpoint)
    capacity = checkpoint.capacity
    return {
        "code": checkpoint.code,
        "name": checkpoint.name_in(language),
        "headcount": headcount,
        "capacity": capacity,
        "near_capacity": bool(capacity) and headcount >= capacity * NEAR_CAPACITY,
    }


def check_in(event, code, checkpoint, scan_id, *, user_id, token_id=None, scanned_at=None,
             direction=IN, language="kk"):
    """Decide one scan and record it. Returns an Outcome; the same scan_id always gets the same one."""
    scan_id = (scan_id or "").strip()
    if not 8 <= len(scan_id) <= 64:
        raise ScanRefused(422, "invalid_scan_id")
    if direction not in (IN, OUT):
        raise ScanRefused(422, "invalid_direction")
    now = utcnow()
    scanned_at = as_utc(scanned_at) if scanned_at else now
    if scanned_at > now + CLOCK_SKEW:
        scanned_at = now

    replay = _previous_answer(event, scan_id)
    if replay:
        return replay

    try:
        registration = resolve_code(event, code)
    except BadgeRejected as rejected:
        return _store(event, scan_id, None, checkpoint, direction, scanned_at, user_id, token_id,
                      Outcome(404, {"result": "unknown_code", "reason": rejected.reason}))

    registration_id = registration.id
    try:
        with write_transaction():
            registration = _locked(registration_id)
            outcome, previous_zone = _decide(registration, checkpoint, direction, scanned_at, language)
            if outcome.status == 201:
                outcome.body["zone"] = zone_card(checkpoint, language)  # counts the move just made
            db.session.add(_scan_row(event, scan_id, registration_id, checkpoint, direction, scanned_at,
                                     user_id, token_id, outcome, previous_zone))
            db.session.flush()
    except IntegrityError:
        # The same scan_id arrived twice at once (a retry racing the original): answer as the first.
        return _previous_answer(event, scan_id)
    return outcome


def _locked(registration_id):
    return db.session.execute(
        db.select(Registration).where(Registration.id == registration_id).with_for_update()
    ).scalar_one()


def _decide(registration, checkpoint, direction, scanned_at, language):
    """The rules of the door, in order. Returns (outcome, the zone the person leaves)."""
    card = participant_card(registration, language)
    if registration.status == CANCELLED:
        return Outcome(403, {"result": "cancelled", "participant": card}), None
    if registration.status == WAITLISTED:
        return Outcome(403, {"result": "not_confirmed", "participant": card}), None
    allowed = checkpoint.allowed_categories
    if allowed and registration.category_id not in {c.id for c in allowed}:
        return Outcome(403, {"result": "not_allowed_here", "participant": card}), None

    presence = db.session.get(Presence, registration.id)
    current_zone = presence.checkpoint_id if presence else None
    if direction == OUT:
        if current_zone != checkpoint.id:
            return Outcome(409, {"result": "not_inside", "participant": card}), None
        presence.checkpoint_id, presence.since = None, scanned_at
        return Outcome(201, {"result": "ok", "direction": OUT, "participant": card}), current_zone

    first = None
    if current_zone == checkpoint.id:
        first = _last_entry(registration.id, checkpoint.id)
    elif not checkpoint.reentry_allowed:
        first = _first_entry(registration.id, checkpoint.id)
    if first is not None or current_zone == checkpoint.id:
        return Outcome(409, {"result": "already_checked_in", "participant": card,
                             "first": _entry_card(first, language)}), None

    if presence is None:
        db.session.add(Presence(registration_id=registration.id, event_id=registration.event_id,
                                checkpoint_id=checkpoint.id, since=scanned_at))
    else:
        presence.checkpoint_id, presence.since = checkpoint.id, scanned_at
    return Outcome(201, {"result": "ok", "direction": IN, "participant": card,
                         "checked_in_at": scanned_at.isoformat()}), current_zone


def _entries(registration_id, checkpoint_id):
    return (db.select(Scan)
            .where(Scan.registration_id == registration_id, Scan.checkpoint_id == checkpoint_id,
                   Scan.result == "ok", Scan.direction == IN, Scan.undone_at.is_(None)))


def _first_entry(registration_id, checkpoint_id):
    return db.session.execute(_entries(registration_id, checkpoint_id)
                              .order_by(Scan.scanned_at, Scan.id).limit(1)).scalar_one_or_none()


def _last_entry(registration_id, checkpoint_id):
    return db.session.execute(_entries(registration_id, checkpoint_id)
                              .order_by(Scan.scanned_at.desc(), Scan.id.desc()).limit(1)).scalar_one_or_none()


def _entry_card(scan, language):
    if scan is None:
        return None
    at = as_utc(scan.scanned_at)
    return {
        "at": at.isoformat(),
        "time": format_time(at, "HH:mm"),
        "checkpoint": scan.checkpoint.name_in(language),
        "by": scan.user.email if scan.user else "",
    }


def _scan_row(event, scan_id, registration_id, checkpoint, direction, scanned_at, user_id, token_id,
              outcome, previous_zone):
    outcome.body["scan_id"] = scan_id
    outcome.body["checkpoint"] = checkpoint.code
    return Scan(event_id=event.id, scan_id=scan_id, registration_id=registration_id,
                checkpoint_id=checkpoint.id, direction=direction, result=outcome.result,
                status=outcome.status, previous_checkpoint_id=previous_zone, scanned_at=scanned_at,
                user_id=user_id, token_id=token_id, response=outcome.body)


def _store(event, scan_id, registration_id, checkpoint, direction, scanned_at, user_id, token_id, outcome):
    """Record a scan that changes nothing (unknown code), so a resend gets the same answer."""
    try:
        with write_transaction():
            db.session.add(_scan_row(event, scan_id, registration_id, checkpoint, direction, scanned_at,
                                     user_id, token_id, outcome, None))
    except IntegrityError:
        return _previous_answer(event, scan_id)
    return outcome


def _previous_answer(event, scan_id):
    scan = db.session.execute(
        db.select(Scan.status, Scan.response).filter_by(event_id=event.id, scan_id=scan_id)
    ).first()
    return Outcome(scan.status, dict(scan.response)) if scan else None


def undo(event, scan_id, *, user_id, token_id=None, at=None):
    """Take back a check-in made a moment ago (wrong person): the person goes back where they were.

    Only the device or person who made it, within UNDO_WINDOW. Returns an Outcome.
    """
    at = at or utcnow()
    with write_transaction():
        scan = db.session.execute(
            db.select(Scan).filter_by(event_id=event.id, scan_id=scan_id).with_for_update()
        ).scalar_one_or_none()
        if scan is None or scan.result != "ok":
            return Outcome(404, {"result": "unknown_scan"})
        if scan.undone_at is not None:
            return Outcome(200, {"result": "undone", "scan_id": scan_id})
        if (scan.user_id != user_id) or at - as_utc(scan.recorded_at) > UNDO_WINDOW:
            return Outcome(403, {"result": "undo_not_allowed"})
        _locked(scan.registration_id)
        presence = db.session.get(Presence, scan.registration_id)
        expected = scan.checkpoint_id if scan.direction == IN else None
        if presence is not None and presence.checkpoint_id == expected:
            presence.checkpoint_id = scan.previous_checkpoint_id if scan.direction == IN else scan.checkpoint_id
        scan.undone_at = at
        record("checkin_undone", event_id=event.id, user_id=user_id, token_id=token_id,
               registration_id=scan.registration_id, scan_id=scan_id, checkpoint=scan.checkpoint.code)
    return Outcome(200, {"result": "undone", "scan_id": scan_id})


def check_out_zone(event, checkpoint, *, user_id, at=None):
    """End of day: everyone inside this zone is checked out at the given moment. Returns how many."""
    at = at or utcnow()
    with write_transaction():
        count = db.session.execute(
            db.update(Presence).where(Presence.event_id == event.id, Presence.checkpoint_id == checkpoint.id)
            .values(checkpoint_id=None, since=at).execution_options(synchronize_session=False)
        ).rowcount
        record("zone_checked_out", event_id=event.id, user_id=user_id, checkpoint=checkpoint.code,
               people=count, at=at.isoformat())
    return count


def search_people(event, query, language="kk", limit=20):
    """Name search for the door: cards only, with where each person is now."""
    from ..registration.service import search

    people = search(event, query, limit=limit)
    return [participant_card(p, language) for p in people]


def parse_scanned_at(value):
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ScanRefused(422, "invalid_scanned_at") from None
    if parsed.tzinfo is None:
        raise ScanRefused(422, "invalid_scanned_at")
    return parsed
