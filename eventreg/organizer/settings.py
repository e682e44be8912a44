"""Event settings as organizers change them: the event's details, its regions, categories and checkpoints.

Every change is checked whole before anything is written, then made in one write transaction with its
audit entry (who, which item, each changed value before and after). Every change gives the event a new
settings_token: each worker keeps the lists in a cache keyed by it (events.service.event_options), so
the next request in any worker, and the next download of a scanning device, reads them again.

Capacity: a capacity raised frees places, and the waitlist moves up through the registration service's
own rule (promote_waitlisted, with its conditional updates of the counters). A capacity lowered below the
places already confirmed takes no one's place: the counters only stop giving new ones.
"""
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..audit import AuditEntry, record
from ..checkin.models import Checkpoint, Scan, ScannerToken, checkpoint_category
from ..db import as_utc, utcnow, write_transaction
from ..events.models import Category, Event, Region
from ..extensions import db
from ..registration.models import Registration
from ..registration.service import promote_waitlisted
from ..text import clean_line

MAX_CAPACITY = 1_000_000
MINOR_AGE = (1, 30)
NAME_LENGTH = 200
VENUE_LENGTH = 300
# Codes travel in URLs (checkpoints), query strings (list filters) and import files.
CODE = re.compile(r"[A-Za-z0-9_-]+")
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

# The audit actions of this module. A scanning device downloads everything again after a checkpoint
# changed (checkin.offline.snapshot): which checkpoints admit a person only once decides what it keeps per badge.
EVENT_CHANGED = "event_settings_changed"
DOOR_ACTIONS = ("checkpoint_added", "checkpoint_changed", "checkpoint_removed")


class SettingsRefused(Exception):
    """Settings the rules refuse: errors is {field: (code, params)}, field None for the whole form."""

    def __init__(self, errors):
        super().__init__(", ".join(code for code, _ in errors.values()))
        self.errors = errors


@dataclass
class Change:
    """What a saved change did: {field: (before, after)}, who left the waitlist, and whether the
    capacity is now under the places already confirmed (then `confirmed` holds their number)."""

    changed: dict = field(default_factory=dict)
    promoted: list = field(default_factory=list)
    confirmed: int | None = None
    capacity: int | None = None

    @property
    def over_capacity(self):
        return self.capacity is not None and self.confirmed is not None and self.confirmed > self.capacity


# --- checks shared by forms and services ---

@lru_cache(maxsize=1)
def _timezone_names():
    return frozenset(available_timezones())


def valid_timezone(name):
    """True for an IANA time zone name this system knows (Asia/Almaty, UTC, ...)."""
    return bool(name) and name in _timezone_names()


def _check_required(value, name, errors):
    if not value:
        errors[name] = ("required", {})


def _check_count(value, name, errors, low=0, high=MAX_CAPACITY, required=False):
    if value is None:
        if required:
            errors[name] = ("required", {})
    elif not low <= value <= high:
        errors[name] = ("out_of_range", {"min": low, "max": high})


def _check_length(value, name, errors, limit):
    if value and len(value) > limit:
        errors[name] = ("too_long", {"max": limit})


def _raised(before, after):
    """Whether a capacity change frees places (None is unlimited)."""
    return before is not None and (after is None or after > before)


def _plain(value):
    """A value as the audit trail's JSON keeps it."""
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted(value)
    return value


def _same(before, after):
    if isinstance(before, datetime) and isinstance(after, datetime):
        return as_utc(before) == as_utc(after)
    return before == after


def _apply(row, values):
    """Set the values on the row; returns {name: (before, after)} of those that changed."""
    changed = {}
    for name, value in values.items():
        before = getattr(row, name)
        if not _same(before, value):
            changed[name] = (before, value)
            setattr(row, name, value)
    return changed


def _audit_changes(changed):
    return {name: [_plain(before), _plain(after)] for name, (before, after) in changed.items()}


def _locked(model, row_id):
    """The row, read again and held until the transaction ends (PostgreSQL; SQLite holds the whole database).

    FOR NO KEY UPDATE: sign-ups and scans may still insert rows that refer to it meanwhile.
    """
    return db.session.execute(
        select(model).where(model.id == row_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True)).scalar_one_or_none()


def _counter(model, row_id):
    return db.session.execute(select(model.capacity, model.confirmed_count).where(model.id == row_id)).one()


def _promote(event_id):
    # Flushed first: the counters' conditional updates compare with the capacity in the database.
    db.session.flush()
    return promote_waitlisted(event_id)


# --- the event ---

@dataclass
class EventValues:
    """The event's details as an organizer edits them; the registration window in the event's local time."""

    name_kk: str
    name_ru: str
    name_en: str
    starts_on: date | None
    ends_on: date | None
    venue: str
    timezone: str
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    capacity: int | None
    minor_age: int | None


def event_values(event):
    """The event's details as the form shows them: the registration window in the event's local time."""
    tz = event.tz

    def local(moment):
        return as_utc(moment).astimezone(tz).replace(tzinfo=None) if moment else None

    return EventValues(
        name_kk=event.name_kk, name_ru=event.name_ru, name_en=event.name_en, starts_on=event.starts_on,
        ends_on=event.ends_on, venue=event.venue, timezone=event.timezone,
        registration_opens_at=local(event.registration_opens_at),
        registration_closes_at=local(event.registration_closes_at), capacity=event.capacity,
        minor_age=event.minor_age)


def local_to_utc(moment, tz_name):
    """A wall-clock time in the event's time zone (naive) as a UTC moment."""
    if moment is None:
        return None
    return moment.replace(tzinfo=ZoneInfo(tz_name)).astimezone(timezone.utc)


def _checked_event_values(values):
    """The values to store (names cleaned, the window in UTC), or SettingsRefused with every error."""
    values = EventValues(**{name: clean_line(value) if isinstance(value, str) else value
                            for name, value in asdict(values).items()})
    errors = {}
    _check_required(values.name_kk, "name_kk", errors)
    for name in ("name_kk", "name_ru", "name_en"):
        _check_length(getattr(values, name), name, errors, NAME_LENGTH)
    _check_length(values.venue, "venue", errors, VENUE_LENGTH)
    _check_required(values.starts_on, "starts_on", errors)
    _check_required(values.ends_on, "ends_on", errors)
    if values.starts_on and values.ends_on and values.ends_on < values.starts_on:
        errors["ends_on"] = ("ends_before_starts", {})
    if not valid_timezone(values.timezone):
        errors["timezone"] = ("timezone_unknown", {})
    _check_count(values.capacity, "capacity", errors)
    _check_count(values.minor_age, "minor_age", errors, *MINOR_AGE, required=True)
    if errors:
        raise SettingsRefused(errors)
    stored = asdict(values)
    stored["registration_opens_at"] = local_to_utc(values.registration_opens_at, values.timezone)
    stored["registration_closes_at"] = local_to_utc(values.registration_closes_at, values.timezone)
    stored["venue"] = values.venue or ""
    stored["name_ru"], stored["name_en"] = values.name_ru or "", values.name_en or ""
    opens, closes = stored["registration_opens_at"], stored["registration_closes_at"]
    if opens and closes and closes <= opens:
        raise SettingsRefused({"registration_closes_at": ("closes_before_opens", {})})
    return stored


def update_event(event, values, user):
    """Save the event's details (EventValues). Raises SettingsRefused and changes nothing on bad values.

    A raised capacity confirms waitlisted people while places are free; they are in Change.promoted
    (the caller tells them: notifications.service.announce_promotions).
    """
    stored = _checked_event_values(values)
    with write_transaction():
        row = _locked(Event, event.id)
        changed = _apply(row, stored)
        if not changed:
            return Change()
        # Not one of the lists event_options caches, but every settings change renews the token:
        # one rule, and anything cached per settings version is read again.
        row.settings_token = secrets.token_hex(16)
        promoted = _promote(row.id) if "capacity" in changed and _raised(*changed["capacity"]) else []
        record(EVENT_CHANGED, event_id=row.id, user_id=user.id, changed=_audit_changes(changed),
               promoted=[r.reference for r in promoted])
        capacity, confirmed = _counter(Event, row.id)
    return Change(changed, promoted, confirmed, capacity)


# --- regions, categories and checkpoints ---

@dataclass
class ItemValues:
    """A region, category or checkpoint as an organizer edits it. position is the 1-based place in the
    list (None: last for a new one, unchanged otherwise); code None leaves it as it is."""

    code: str | None
    name_kk: str
    name_ru: str = ""
    name_en: str = ""
    position: int | None = None
    # categories
    badge_color: str = "#1f6feb"
    self_registration: bool = True
    # categories and checkpoints
    capacity: int | None = None
    # checkpoints
    reentry_allowed: bool = True
    category_ids: tuple = ()


@dataclass(frozen=True)
class Kind:
    name: str  # in audit actions: region_added, category_changed, ...
    model: type
    code_length: int
    columns: tuple  # what ItemValues sets besides the code and the position
    code_fixed: bool  # regions' and categories' codes are in filters, exports and import files


REGION = Kind("region", Region, 16, ("name_kk", "name_ru", "name_en"), code_fixed=True)
CATEGORY = Kind("category", Category, 32,
                ("name_kk", "name_ru", "name_en", "badge_color", "self_registration", "capacity"), code_fixed=True)
CHECKPOINT = Kind("checkpoint", Checkpoint, 32, ("name_kk", "name_ru", "name_en", "capacity", "reentry_allowed"),
                  code_fixed=False)


def items(event, kind):
    """The event's regions, categories or checkpoints in their order."""
    model = kind.model
    return db.session.execute(
        select(model).where(model.event_id == event.id).order_by(model.position, model.id)).scalars().all()


def get_item(event, kind, item_id):
    row = db.session.get(kind.model, item_id)
    return row if row is not None and row.event_id == event.id else None


def usage(event, kind):
    """{item id: how many registrations (regions, categories) or scans (checkpoints) refer to it}."""
    if kind is CHECKPOINT:
        column, where = Scan.checkpoint_id, Scan.event_id == event.id
    else:
        column = Registration.region_id if kind is REGION else Registration.category_id
        where = Registration.event_id == event.id
    return dict(db.session.execute(select(column, func.count()).where(where).group_by(column)).all())


def checkpoints_admitting(category):
    """The checkpoints whose list of admitted categories names this one."""
    return db.session.execute(
        select(Checkpoint).join(checkpoint_category, checkpoint_category.c.checkpoint_id == Checkpoint.id)
        .where(checkpoint_category.c.category_id == category.id).order_by(Checkpoint.position)).scalars().all()


def _checked_item_values(event, kind, values, row=None):
    """Cleaned values, or SettingsRefused with every error. row is the item being changed (None: a new one)."""
    values = ItemValues(**{name: clean_line(value) if isinstance(value, str) else value
                           for name, value in asdict(values).items()})
    errors = {}
    if row is None or not kind.code_fixed:
        if not values.code:
            errors["code"] = ("required", {})
        elif len(values.code) > kind.code_length:
            errors["code"] = ("too_long", {"max": kind.code_length})
        elif not CODE.fullmatch(values.code):
            errors["code"] = ("code_invalid", {})
        elif _code_taken(event, kind, values.code, row):
            errors["code"] = ("code_taken", {})
    _check_required(values.name_kk, "name_kk", errors)
    for name in ("name_kk", "name_ru", "name_en"):
        _check_length(getattr(values, name), name, errors, NAME_LENGTH)
    if values.position is not None and values.position < 1:
        errors["position"] = ("out_of_range", {"min": 1, "max": MAX_CAPACITY})
    if "capacity" in kind.columns:
        _check_count(values.capacity, "capacity", errors)
    if kind is CATEGORY:
        if not COLOUR.fullmatch(values.badge_color or ""):
            errors["badge_color"] = ("colour_invalid", {})
        values.badge_color = (values.badge_color or "").lower()
    if kind is CHECKPOINT:
        known = {c.id for c in items(event, CATEGORY)}
        if not set(values.category_ids) <= known:
            errors["category_ids"] = ("category_unknown", {})
    if errors:
        raise SettingsRefused(errors)
    values.name_ru, values.name_en = values.name_ru or "", values.name_en or ""
    return values


def _code_taken(event, kind, code, row):
    model = kind.model
    query = select(model.id).where(model.event_id == event.id, model.code == code)
    if row is not None:
        query = query.where(model.id != row.id)
    return db.session.execute(query.limit(1)).first() is not None


def _move(event, kind, row, place):
    """Put the row at this 1-based place of its list (the end if past it) and number the list 0, 1, 2, ...

    Returns the row's position before and after, or None if it did not move.
    """
    listed = items(event, kind)
    others = [item for item in listed if item.id != row.id]
    place = min(max(place, 1), len(others) + 1)
    if listed.index(row) == place - 1:
        return None
    ordered = others[:place - 1] + [row] + others[place - 1:]
    before = row.position
    for position, item in enumerate(ordered):
        if item.position != position:
            item.position = position
    return None if before == row.position else (before, row.position)


def add_item(event, kind, values, user):
    """Add a region, category or checkpoint (at the end of its list, or at values.position)."""
    values = _checked_item_values(event, kind, values)
    model = kind.model
    try:
        with write_transaction():
            _locked(Event, event.id)
            last = db.session.execute(
                select(func.max(model.position)).where(model.event_id == event.id)).scalar()
            row = model(event_id=event.id, code=values.code, position=0 if last is None else last + 1,
                        **{name: getattr(values, name) for name in kind.columns})
            if kind is CHECKPOINT:
                row.allowed_categories = _categories_by_id(event, values.category_ids)
            db.session.add(row)
            db.session.flush()
            if values.position is not None:
                _move(event, kind, row, values.position)
            stored = {name: _plain(getattr(row, name)) for name in kind.columns}
            if kind is CHECKPOINT:
                stored["categories"] = _category_codes(row)
            record(f"{kind.name}_added", event_id=event.id, user_id=user.id, code=row.code,
                   position=row.position, values=stored)
    except IntegrityError:
        # Another organizer added the same code a moment ago: the unique constraint decided.
        raise SettingsRefused({"code": ("code_taken", {})}) from None
    return row


def _categories_by_id(event, category_ids):
    wanted = set(category_ids)
    return [c for c in items(event, CATEGORY) if c.id in wanted]


def _category_codes(checkpoint):
    return sorted(c.code for c in checkpoint.allowed_categories)


def update_item(event, kind, row, values, user):
    """Change a region, category or checkpoint. Raises SettingsRefused and changes nothing on bad values.

    A checkpoint's code changes only while no scan was made there: devices, their queued scans and the
    scanner pages' addresses name it. A category's raised capacity moves the waitlist up (Change.promoted).
    """
    values = _checked_item_values(event, kind, values, row)
    stored = {name: getattr(values, name) for name in kind.columns}
    if not kind.code_fixed:
        stored["code"] = values.code
    try:
        with write_transaction():
            # The event's row before the item's, in the order every writer takes the counters
            # (registration service, take_place): two transactions never wait for each other's second row.
            _locked(Event, event.id)
            row = _locked(kind.model, row.id)
            if row is None:
                raise SettingsRefused({None: ("gone", {})})
            if "code" in stored and stored["code"] != row.code and _scans(row.id):
                raise SettingsRefused({"code": ("code_in_use", {})})
            changed = _apply(row, stored)
            if kind is CHECKPOINT and {c.id for c in row.allowed_categories} != set(values.category_ids):
                before = _category_codes(row)
                row.allowed_categories = _categories_by_id(event, values.category_ids)
                changed["categories"] = (before, _category_codes(row))
            if values.position is not None:
                moved = _move(event, kind, row, values.position)
                if moved:
                    changed["position"] = moved
            if not changed:
                return Change()
            promoted = []
            if "capacity" in changed and kind is CATEGORY and _raised(*changed["capacity"]):
                promoted = _promote(event.id)
            record(f"{kind.name}_changed", event_id=event.id, user_id=user.id, code=row.code,
                   changed=_audit_changes(changed), promoted=[r.reference for r in promoted])
            capacity, confirmed = _counter(Category, row.id) if kind is CATEGORY else (None, None)
    except IntegrityError:
        raise SettingsRefused({"code": ("code_taken", {})}) from None
    return Change(changed, promoted, confirmed, capacity)


def _scans(checkpoint_id):
    return db.session.execute(select(func.count()).where(Scan.checkpoint_id == checkpoint_id)).scalar()


def removal_refusal(event, kind, row):
    """Why this item may not be removed now, as (code, params), or None when it may."""
    if kind is REGION:
        used = db.session.execute(select(func.count()).where(Registration.region_id == row.id)).scalar()
        return ("region_in_use", {"count": used}) if used else None
    if kind is CATEGORY:
        used = db.session.execute(select(func.count()).where(Registration.category_id == row.id)).scalar()
        if used:
            return "category_in_use", {"count": used}
        # Its checkpoints would be left admitting no named category, which means every category.
        admitting = checkpoints_admitting(row)
        if admitting:
            return "category_at_checkpoint", {"checkpoints": ", ".join(c.name for c in admitting)}
        return None
    used = _scans(row.id)
    return ("checkpoint_has_scans", {"count": used}) if used else None


def remove_item(event, kind, row, user):
    """Remove a region, category or checkpoint that nothing refers to; SettingsRefused otherwise.

    A checkpoint goes only while no scan was made there (its check-in history stays); devices paired for
    it alone are revoked, and the others forget it. Returns the number of devices revoked.
    """
    revoked = 0
    try:
        with write_transaction():
            _locked(Event, event.id)
            row = _locked(kind.model, row.id)
            if row is None:
                return 0
            # Checked with the rows held: a registration or scan made meanwhile fails the delete
            # (foreign keys), and is caught below.
            refusal = removal_refusal(event, kind, row)
            if refusal:
                raise SettingsRefused({None: refusal})
            if kind is CHECKPOINT:
                revoked = _forget_checkpoint(event, row.id)
            code, names = row.code, [row.name_kk, row.name_ru, row.name_en]
            db.session.delete(row)
            db.session.flush()
            _renumber(event, kind)
            record(f"{kind.name}_removed", event_id=event.id, user_id=user.id, code=code, names=names,
                   devices_revoked=revoked)
    except IntegrityError:
        raise SettingsRefused({None: removal_refusal(event, kind, row) or ("in_use", {})}) from None
    return revoked


def _renumber(event, kind):
    for position, item in enumerate(items(event, kind)):
        if item.position != position:
            item.position = position


def _forget_checkpoint(event, checkpoint_id):
    """Take a removed checkpoint out of the devices' lists. A list left empty would mean "everywhere":
    such a device is revoked instead. Returns how many devices that could still scan were revoked."""
    revoked = 0
    now = utcnow()
    tokens = db.session.execute(select(ScannerToken).where(ScannerToken.event_id == event.id)).scalars().all()
    for token in tokens:
        if checkpoint_id not in (token.checkpoint_ids or []):
            continue
        remaining = [i for i in token.checkpoint_ids if i != checkpoint_id]
        if remaining:
            token.checkpoint_ids = remaining  # a new list: a JSON column sees assignments only
        elif token.revoked_at is None:
            token.revoked_at = now
            if as_utc(token.expires_at) > now:
                revoked += 1
    return revoked


# --- what the door and the settings page need to know ---

def door_settings_changed_since(event, since):
    """Whether a checkpoint of the event was added, changed or removed at or after this moment."""
    return db.session.execute(
        select(AuditEntry.id).where(AuditEntry.event_id == event.id, AuditEntry.action.in_(DOOR_ACTIONS),
                                    AuditEntry.at >= since).limit(1)).first() is not None
