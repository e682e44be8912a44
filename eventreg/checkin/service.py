"""Deciding a scan at a checkpoint: who this is, whether they may enter here, and counting it once.

One function, check_in(), serves the scanner page (through the JSON API), scanner apps and tests.
Exactly-once holds in the database: the scan_id is unique per event (a resent scan gets its first
answer back), and a person's move is a compare-and-set on their presence row, written with the scan's
row only if nobody moved them since the door read where they were; else the scan is decided again
(see _Overtaken). A scan takes no lock to decide: on SQLite it holds the write lock (BEGIN IMMEDIATE)
only to write, on PostgreSQL it takes no row lock (that cost a round trip and a heap write per scan).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask_babel import format_time
from sqlalchemy import Integer, bindparam
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import load_only

from ..attestations.service import checks_documents, door_check, facts_columns, facts_from_columns, use_override
from ..attestations.status import BLOCK as SANITARY_BLOCK
from ..audit import record
from ..badges.service import BadgeRejected, lookup_condition, read_code
from ..db import as_utc, is_sqlite, utcnow, write_transaction
from ..events.service import event_options
from ..extensions import db
from ..registration.models import CANCELLED, WAITLISTED, Registration
from ..registration.validators import mask_iin
from .models import IN, OUT, Checkpoint, Presence, Scan, ZoneCount
from .tokens import KnownDevice

UNDO_WINDOW = timedelta(minutes=2)
# Decisions in a row that another scan of the same person may overtake (see _Overtaken).
_ATTEMPTS = 5
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


def zone(event, code):
    """The checkpoint with this code as cached plain values (see events.service.event_options)."""
    return event_options(event).checkpoint(code)


def get_checkpoint(event, code):
    return db.session.execute(
        db.select(Checkpoint).filter_by(event_id=event.id, code=code)
    ).scalar_one_or_none()


def participant_card(registration, language="kk", options=None):
    """What the door sees of a person: never the IIN in full, the phone or the email."""
    options = options or event_options(registration.event)
    category = options.category(registration.category_id)
    region = options.region(registration.region_id)
    return {
        "name": registration.full_name,
        "reference": registration.display_reference,
        "category": category.name_in(language) if category else "",
        "category_color": category.badge_color if category else "",
        "region": region.name_in(language) if region else "",
        "iin_masked": mask_iin(registration.iin),
        "status": registration.status,
    }


def zone_headcount(checkpoint):
    """How many people are inside the checkpoint's zone now (a Checkpoint or a Zone)."""
    return db.session.execute(_HEADCOUNT, {"zone_id": checkpoint.id}).scalar() or 0


def zone_card(checkpoint, language="kk", headcount=None):
    if headcount is None:
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
             direction=IN, language="kk", offline=False, known=None):
    """Decide one scan at a checkpoint (a Zone) and record it.

    Returns an Outcome; the same scan_id always gets the same one. known: the device's tokens.KnownDevice,
    rechecked here before anything is written (raises DeviceUnconfirmed if it no longer may scan).
    """
    scan_id = (scan_id or "").strip()
    if not 8 <= len(scan_id) <= 64:
        raise ScanRefused(422, "invalid_scan_id")
    if direction not in (IN, OUT):
        raise ScanRefused(422, "invalid_direction")
    now = utcnow()
    scanned_at = as_utc(scanned_at) if scanned_at else now
    if scanned_at > now + CLOCK_SKEW or (not offline and scanned_at < now - CLOCK_SKEW):
        # A live scan happens now, whatever the device's clock says; only an offline scan,
        # synced later, keeps the time it was made.
        scanned_at = now
    options = event_options(event)
    event_id = event.id
    scan = _ScanFacts(event_id, scan_id, checkpoint, direction, scanned_at, user_id, token_id, offline)

    try:
        wanted, rejected = read_code(event, code), None
    except BadgeRejected as rejection:
        wanted, rejected = None, rejection

    for _attempt in range(_ATTEMPTS):
        try:
            # The badge, the person and the rules are read and decided before the write transaction:
            # on SQLite every scan of every worker waits while one holds the write lock, so it holds
            # it only to write. A scan that another overtook meanwhile finds out when it moves the
            # person (_Overtaken), on both databases.
            try:
                if rejected is not None:
                    raise rejected
                facts = _DoorFacts.read(event, wanted, checkpoint, known)
            except BadgeRejected as refused:
                if known is not None:
                    known.confirm()  # the door read found no row to recheck the device with
                facts, outcome = None, Outcome(404, {"result": "unknown_code", "reason": refused.reason})
            else:
                outcome, previous_zone = _decide(facts, checkpoint, direction, scanned_at, language, options)
            # A resent scan is caught by the unique scan_id when its row is inserted: checking first
            # would cost every scan a query for what happens only on retries.
            with write_transaction():
                if facts is None:
                    scan.insert(None, outcome, None)
                else:
                    facts.write(scan, outcome, previous_zone)
        except _Overtaken:
            continue  # rolled back: decide again on where the other scan left the person
        except IntegrityError:
            # This scan_id is recorded already (a resend, or a retry racing the original): whatever was
            # decided again is rolled back, and the device gets the first answer.
            db.session.rollback()
            return _previous_answer(event_id, scan_id)
        return outcome
    # Only if other scans of this person kept winning (each lost attempt is another's success):
    # the device keeps the scan and sends it again, with the same scan_id.
    raise ScanRefused(503, "unavailable")


@dataclass
class _DoorFacts:
    """What the door needs to know about a person (the zone they are in is checked again when they move).

    Every check-in reads them, so they come in one statement: the registration, the zone the person
    is in, the headcount of the checkpoint's zone (its ZoneCount rows), (where re-entry is not allowed)
    whether they entered here before, and (where the sanitary policy looks at documents) their evidence
    and declarations. Read without a lock: a scan that reads here what another is changing finds out
    when it moves the person (_ScanFacts.insert).
    """

    # The scan's event: maybe a remembered device's copy (tokens.KnownDevice), which no session may hold,
    # so it is passed along rather than reached through the registration (a lookup, too).
    event: object
    registration: Registration
    person_id: int  # the registration's, kept apart: SQLite's write transaction expires the ORM object
    has_presence: bool
    current_zone: int | None
    headcount: int
    entered_before: bool
    # Their evidence and declarations, read in the same statement when the policy looks at them.
    sanitary_facts: tuple | None = None
    moved: "_Move | None" = None
    # The organizer's override that lets this entry in despite the sanitary status (door_check).
    override: dict | None = None

    @classmethod
    def read(cls, event, wanted, checkpoint, known=None):
        """wanted: the CodeLookup of the scanned code (badges.service.read_code); known: the device's
        tokens.KnownDevice, rechecked with the same statement (its columns come last)."""
        params = wanted.params(event.id) | {"zone_id": checkpoint.id}
        sanitary = checks_documents(event)
        door_query = _door_query(wanted.by_reference, checkpoint.reentry_allowed, sanitary, db.engine.dialect.name,
                                 known is not None)
        if known is not None:
            params |= known.parameters()
        row = db.session.execute(door_query, params).first()
        if known is not None and row is not None:
            known.check(*row[-2:])
        registration = wanted.check(row[0] if row else None, event.id)
        return cls(event, registration, registration.id, row[1] is not None, row[2], row[3] or 0, bool(row[4]),
                   facts_from_columns(row[5], row[6]) if sanitary else None)

    def write(self, scan, outcome, previous_zone):
        """In the write transaction: use up the override the entry needs, record the scan and move the person."""
        if self.override is not None and not use_override(**self.override, user_id=scan.user_id,
                                                           token_id=scan.token_id):
            raise _Overtaken  # another entry used it: decide again
        scan.insert(self.person_id, outcome, previous_zone, self.moved)

    def move(self, zone_id, at):
        """Put the person in a zone (None: outside), written with the scan's row (_ScanFacts.insert)."""
        self.moved = _Move(self.has_presence, {"move_person": self.registration.id,
                                               "move_event": self.registration.event_id,
                                               "move_zone": zone_id, "move_since": at,
                                               "move_seen": self.current_zone})


# The zone's counters summed (no row yet: nobody has entered it).
_HEADCOUNT = (db.select(db.func.coalesce(db.func.sum(ZoneCount.inside), 0))
              .where(ZoneCount.checkpoint_id == bindparam("zone_id")))


# What the door reads of a person (participant_card, the badge check, the rules); the other columns raise
# if touched: a check-in reads one row per scan, and every column costs the worker.
_DOOR_COLUMNS = load_only(Registration.id, Registration.event_id, Registration.reference, Registration.last_name,
                          Registration.first_name, Registration.patronymic, Registration.iin, Registration.region_id,
                          Registration.category_id, Registration.status, Registration.badge_generation,
                          raiseload=True)


@cache
def _door_query(by_reference, reentry_allowed, sanitary, dialect_name, recheck_device):
    """Built once per kind: a check-in runs it every time, and building a statement costs as much as running it."""
    headcount = _HEADCOUNT.scalar_subquery()
    entered = (db.literal(False) if reentry_allowed else
               db.select(Scan.id).where(*_entry_conditions(Registration.id, bindparam("zone_id"))).exists())
    documents = facts_columns(Registration.id, dialect_name) if sanitary else ()
    device = KnownDevice.columns_read() if recheck_device else ()
    return (db.select(Registration, Presence.registration_id, Presence.checkpoint_id, headcount, entered, *documents,
                      *device)
            .outerjoin(Presence, Presence.registration_id == Registration.id)
            .where(lookup_condition(by_reference)).options(_DOOR_COLUMNS))


# Core statements on the tables: the scan path needs none of the unit of work's bookkeeping.
_presence = Presence.__table__
_SCAN_COLUMNS = [column for column in Scan.__table__.c if column.name != "id"]
# Its parameters named apart from the presence table's columns: a WITH below would take a same-named
# parameter (event_id) as a column to set.
_INSERT_SCAN = Scan.__table__.insert().values({c.name: bindparam(f"scan_{c.name}") for c in _SCAN_COLUMNS})


@cache
def _move_statements(dialect_name):
    """(enter, move): the person's move as a compare-and-set, which writes nothing when another scan
    moved them since the door read where they were. Each returns the person's id when it wrote."""
    insert = sqlite_insert if dialect_name == "sqlite" else postgresql_insert
    enter = (insert(_presence).values(registration_id=bindparam("move_person"), event_id=bindparam("move_event"),
                                      checkpoint_id=bindparam("move_zone"), since=bindparam("move_since"))
             .on_conflict_do_nothing(index_elements=[_presence.c.registration_id])
             # SQLAlchemy keeps the rowcount of an UPDATE or DELETE only, unless asked.
             .execution_options(preserve_rowcount=True))
    move = (_presence.update()
            .where(_presence.c.registration_id == bindparam("move_person"),
                   _presence.c.checkpoint_id.is_not_distinct_from(bindparam("move_seen", type_=Integer)))
            .values(checkpoint_id=bindparam("move_zone"), since=bindparam("move_since")))
    return enter, move


@cache
def _scan_if_moved(has_presence):
    """PostgreSQL: the move (a data-modifying WITH) and the scan's row in one statement, the row
    written only if the move was: one round trip for both, and no row when another scan came first."""
    enter, move = _move_statements("postgresql")
    moved = (move if has_presence else enter).returning(_presence.c.registration_id).cte("moved")
    values = (db.select(*[bindparam(f"scan_{c.name}", type_=c.type) for c in _SCAN_COLUMNS])
              .where(db.select(moved.c.registration_id).exists()))
    return (Scan.__table__.insert().from_select([c.name for c in _SCAN_COLUMNS], values).add_cte(moved)
            .execution_options(preserve_rowcount=True))


class _Overtaken(Exception):
    """Another scan moved the person after this one read where they were: decide again."""


@dataclass
class _Move:
    has_presence: bool  # a presence row exists: update it; otherwise insert it
    params: dict


@dataclass
class _ScanFacts:
    """What the device told us about a scan, to be stored with the answer it gets."""

    event_id: int
    scan_id: str
    checkpoint: object
    direction: str
    scanned_at: datetime
    user_id: int | None
    token_id: int | None
    offline: bool = False

    def insert(self, registration_id, outcome, previous_zone, moved=None):
        """Record the scan with its answer, and the person's move (_DoorFacts.move) if there was one."""
        outcome.body["scan_id"] = self.scan_id
        outcome.body["checkpoint"] = self.checkpoint.code
        params = {f"scan_{name}": value for name, value in dict(
            event_id=self.event_id, scan_id=self.scan_id, registration_id=registration_id,
            checkpoint_id=self.checkpoint.id, direction=self.direction, result=outcome.result,
            status=outcome.status, previous_checkpoint_id=previous_zone, scanned_at=self.scanned_at,
            recorded_at=utcnow(), user_id=self.user_id, token_id=self.token_id, response=outcome.body,
            offline=self.offline, undone_at=None).items()}
        if moved is None:
            db.session.execute(_INSERT_SCAN, params)
        elif is_sqlite(db.engine):  # no data-modifying WITH in SQLite
            enter, move = _move_statements("sqlite")
            if db.session.execute(move if moved.has_presence else enter, moved.params).rowcount != 1:
                raise _Overtaken
            db.session.execute(_INSERT_SCAN, params)
        elif db.session.execute(_scan_if_moved(moved.has_presence), params | moved.params).rowcount != 1:
            raise _Overtaken


def lock_registration(registration_id):
    """Hold the person's row until the transaction ends: one undo or offline swap about them at a time.
    Scans take no lock; they find out when they move the person (_Overtaken)."""
    return db.session.execute(
        db.select(Registration).where(Registration.id == registration_id).with_for_update()
    ).scalar_one()


def _decide(facts, checkpoint, direction, scanned_at, language, options):
    """The rules of the door, in order. Returns (outcome, the zone the person leaves)."""
    registration, current_zone = facts.registration, facts.current_zone
    card = participant_card(registration, language, options)
    if registration.status == CANCELLED:
        return Outcome(403, {"result": "cancelled", "participant": card}), None
    if registration.status == WAITLISTED:
        return Outcome(403, {"result": "not_confirmed", "participant": card}), None
    if not checkpoint.admits(registration.category_id):
        return Outcome(403, {"result": "not_allowed_here", "participant": card}), None

    if direction == OUT:
        if current_zone != checkpoint.id:
            return Outcome(409, {"result": "not_inside", "participant": card}), None
        facts.move(None, scanned_at)
        return Outcome(201, {"result": "ok", "direction": OUT, "participant": card,
                             "zone": zone_card(checkpoint, language, facts.headcount - 1)}), current_zone

    if current_zone == checkpoint.id or facts.entered_before:
        earlier = (_last_entry if current_zone == checkpoint.id else first_entry)(registration.id, checkpoint.id)
        return Outcome(409, {"result": "already_checked_in", "participant": card,
                             "first": entry_card(earlier, language)}), None

    # Sanitary status at the moment of entry (eventreg/attestations): checked last, so that an
    # organizer's one-time override is used up only by an entry that really happens.
    decision, sanitary, override_id = door_check(registration, scanned_at, language=language,
                                                 facts=facts.sanitary_facts, event=facts.event)
    if decision == SANITARY_BLOCK:
        return Outcome(403, {"result": "attestation_required", "participant": card, "sanitary": sanitary}), None
    if override_id is not None:
        facts.override = {"override_id": override_id, "at": scanned_at, "event_id": registration.event_id,
                          "registration_id": facts.person_id, "state": sanitary["state"]}

    facts.move(checkpoint.id, scanned_at)
    # The headcount read with the person's row, with them in it now: as of that read, like any
    # count (scans of other people in between are not in it).
    body = {"result": "ok", "direction": IN, "participant": card, "checked_in_at": scanned_at.isoformat(),
            "zone": zone_card(checkpoint, language, facts.headcount + 1)}
    if sanitary is not None:
        body["sanitary"] = sanitary
    return Outcome(201, body), current_zone


def _entry_conditions(registration_id, checkpoint_id):
    return (Scan.registration_id == registration_id, Scan.checkpoint_id == checkpoint_id,
            Scan.result == "ok", Scan.direction == IN, Scan.undone_at.is_(None))


def _entries(registration_id, checkpoint_id):
    return db.select(Scan).where(*_entry_conditions(registration_id, checkpoint_id))


def first_entry(registration_id, checkpoint_id):
    return db.session.execute(_entries(registration_id, checkpoint_id)
                              .order_by(Scan.scanned_at, Scan.id).limit(1)).scalar_one_or_none()


def _last_entry(registration_id, checkpoint_id):
    return db.session.execute(_entries(registration_id, checkpoint_id)
                              .order_by(Scan.scanned_at.desc(), Scan.id.desc()).limit(1)).scalar_one_or_none()


def entry_card(scan, language):
    if scan is None:
        return None
    at = as_utc(scan.scanned_at)
    return {
        "at": at.isoformat(),
        "time": format_time(at, "HH:mm"),
        "checkpoint": scan.checkpoint.name_in(language),
        "by": scan.user.email if scan.user else "",
    }


def _previous_answer(event_id, scan_id):
    scan = db.session.execute(
        db.select(Scan.status, Scan.response).filter_by(event_id=event_id, scan_id=scan_id)
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
        lock_registration(scan.registration_id)
        # Back where they were, only if this scan's move is still where they are: a compare-and-set,
        # as a scan's move is (a scan takes no lock on PostgreSQL).
        now_in = scan.checkpoint_id if scan.direction == IN else None
        db.session.execute(
            _presence.update().where(_presence.c.registration_id == scan.registration_id,
                                     _presence.c.checkpoint_id.is_not_distinct_from(now_in))
            .values(checkpoint_id=scan.previous_checkpoint_id if scan.direction == IN else scan.checkpoint_id))
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
    options = event_options(event)
    return [participant_card(p, language, options) for p in people]


def local_time_today(event, hh_mm):
    """"22:00" today in the event's timezone, as a UTC moment (ValueError if it is not a time)."""
    from datetime import time as clock
    from datetime import timezone

    hours, minutes = (int(part) for part in hh_mm.strip().split(":"))
    today = utcnow().astimezone(event.tz).date()
    return datetime.combine(today, clock(hours, minutes), event.tz).astimezone(timezone.utc)


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
