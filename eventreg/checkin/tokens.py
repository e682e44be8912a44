"""Bearer tokens for scanning devices: made once, shown once, stored as a hash."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlalchemy.orm import load_only, make_transient_to_detached

from ..auth.models import EventRole, User
from ..events.models import Event
from ..db import as_utc, utcnow
from ..extensions import db
from .models import ScannerToken

TOKEN_PREFIX = "ert_"


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user, event, *, name="", checkpoints=(), hours=16, valid_from=None):
    """Make a token for a device of this user at this event; returns (row, token text).

    The default of 16 hours covers a day's shift; checkpoints limit where it may scan.
    """
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    start = valid_from or utcnow()
    row = ScannerToken(event_id=event.id, user_id=user.id, name=name, token_hash=_hash(token),
                       valid_from=start, expires_at=start + timedelta(hours=hours),
                       checkpoint_ids=[c.id for c in checkpoints])
    db.session.add(row)
    db.session.commit()
    return row, token


@dataclass(frozen=True)
class DeviceToken:
    """What a request needs of its device's token: read as plain columns, not as the ORM row, since
    every scan reads it (an ORM object costs the request more than the query does)."""

    id: int
    user_id: int
    checkpoint_ids: list | None
    valid_from: datetime | None
    expires_at: datetime

    def may_scan_at(self, checkpoint_id):
        return not self.checkpoint_ids or checkpoint_id in self.checkpoint_ids  # none listed: all


_DEVICE_TOKEN_COLUMNS = (ScannerToken.id, ScannerToken.user_id, ScannerToken.checkpoint_ids, ScannerToken.valid_from,
                         ScannerToken.expires_at)


def _usable_tokens(*entities, which=ScannerToken.token_hash == bindparam("token_hash")):
    """Tokens that are not revoked, of a user still active and still working the token's event."""
    return (
        db.select(*entities)
        .join(User, User.id == ScannerToken.user_id)
        .join(EventRole, (EventRole.user_id == User.id) & (EventRole.event_id == ScannerToken.event_id))
        .where(which, ScannerToken.revoked_at.is_(None), User.is_active.is_(True))
    )


# What an API call needs of its event: its id (and the badge key made from it), the settings token its
# cached lists and policy are keyed by, its timezone and slug. The other columns load if touched (one
# query): every scan runs this statement, and on PostgreSQL each column selected costs the worker.
_EVENT_COLUMNS_FOR_DEVICES = (Event.id, Event.slug, Event.timezone, Event.settings_token)
_EVENT_FOR_DEVICES = load_only(*_EVENT_COLUMNS_FOR_DEVICES)

# Built once: every scan runs one of them.
_USABLE_TOKEN = _usable_tokens(*_DEVICE_TOKEN_COLUMNS).where(ScannerToken.event_id == bindparam("event_id"))
_USABLE_TOKEN_AND_EVENT = (_usable_tokens(Event, *_DEVICE_TOKEN_COLUMNS).join(Event, Event.id == ScannerToken.event_id)
                           .where(Event.slug == bindparam("slug")).options(_EVENT_FOR_DEVICES))


def _well_formed(token):
    return bool(token) and token.startswith(TOKEN_PREFIX) and len(token) <= 100


def _in_its_time(row, at):
    at = at or utcnow()
    return as_utc(row.valid_from or at) <= at < as_utc(row.expires_at)


def find_token(event, token, at=None):
    """The usable token for this event (a DeviceToken), or None: unknown, revoked, expired, outside its shift,
    of another event, or of a user who no longer works this event."""
    if not _well_formed(token):
        return None
    # Looking up by hash needs no constant-time comparison: equal hashes are the match itself.
    # One query answers everything: the token, and whether its user still works this event.
    found = db.session.execute(_USABLE_TOKEN, {"token_hash": _hash(token), "event_id": event.id}).first()
    found = DeviceToken(*found) if found is not None else None
    return found if found is not None and _in_its_time(found, at) else None


def find_event_and_token(slug, token, at=None):
    """(event, DeviceToken) for an API call to /events/<slug>/..., in one query; (None, None) when the
    token is not usable there, as find_token() decides, or the event does not exist."""
    if not _well_formed(token):
        return None, None
    found = db.session.execute(_USABLE_TOKEN_AND_EVENT, {"token_hash": _hash(token), "slug": slug}).first()
    if found is None:
        return None, None
    device = DeviceToken(*found[1:])
    return (found[0], device) if _in_its_time(device, at) else (None, None)


class DeviceUnconfirmed(Exception):
    """A remembered device (KnownDevice) whose token is no longer usable, or whose event's settings changed
    since the worker remembered it: the request is answered again as if it had never been remembered."""


# The columns a scan's door read adds to recheck a remembered device (KnownDevice.columns_read): whether its
# token is still usable, as find_event_and_token() decides, and the event's settings token now.
_STILL_USABLE = _usable_tokens(ScannerToken.id, which=(ScannerToken.id == bindparam("device_token_id"))
                               & (ScannerToken.token_hash == bindparam("token_hash"))).exists()
_SETTINGS_NOW = db.select(Event.settings_token).where(Event.id == bindparam("device_event_id")).scalar_subquery()

# (slug, token hash) -> (event, DeviceToken) for the tokens this worker found usable; bounded.
_known = {}
_KNOWN_MAX = 1000


class KnownDevice:
    """A device this worker found usable before, for one request: its token is not looked up again, but
    rechecked in the scan's own door read (columns_read()), so a scan costs one statement less; a request
    answered without that read calls confirm() first. Either way a token revoked, expired, or of a user
    who no longer works the event is refused exactly as before, and no scan is written for it.
    What is remembered of the token (its window, its checkpoints) is rechecked through the event's settings
    token: nothing changes the window after create_token(), and its list of checkpoints changes only when
    one of them is removed (organizer.settings._forget_checkpoint), which renews the settings token as any
    change of the event's lists, policy or timezone does."""

    def __init__(self, slug, token_hash, event, device):
        self.slug, self.token_hash, self.event, self.token = slug, token_hash, event, device
        self.confirmed = False

    @classmethod
    def recall(cls, slug, token, at=None):
        """The remembered device for this token at this event, or None. Its event is the worker's copy, shared
        by its requests and kept out of every session (merging it in cost a scan 4 % of its CPU): a scan
        reads only the columns copied (_EVENT_COLUMNS_FOR_DEVICES), and any other would raise."""
        if not _well_formed(token):
            return None
        token_hash = _hash(token)
        known = _known.get((slug, token_hash))
        if known is None or not _in_its_time(known[1], at):
            return None
        return cls(slug, token_hash, known[0], known[1])

    @staticmethod
    def remember(slug, token, event, device):
        """After find_event_and_token() found them usable: a copy of the event's columns the scan needs,
        kept apart from the session (which expires its objects on commit)."""
        if len(_known) >= _KNOWN_MAX:
            _known.clear()
        copy = Event(**{column.key: getattr(event, column.key) for column in _EVENT_COLUMNS_FOR_DEVICES})
        make_transient_to_detached(copy)
        _known[(slug, _hash(token))] = (copy, device)

    def forget(self):
        _known.pop((self.slug, self.token_hash), None)

    @staticmethod
    def columns_read():
        """What a statement selects to recheck a device (with parameters()): read with the person, in the
        same snapshot; check() takes the values."""
        return _STILL_USABLE, _SETTINGS_NOW

    def parameters(self):
        return {"device_token_id": self.token.id, "token_hash": self.token_hash, "device_event_id": self.event.id}

    def check(self, still_usable, settings_token):
        """The values of columns_read() as read: raises DeviceUnconfirmed unless nothing changed."""
        if not still_usable or settings_token != self.event.settings_token:
            raise DeviceUnconfirmed
        self.confirmed = True

    def confirm(self):
        """For a request answered without the door read: the token looked up as find_event_and_token() does."""
        if not self.confirmed:
            self.check(*db.session.execute(db.select(*self.columns_read()), self.parameters()).one())


def revoke(row):
    row.revoked_at = utcnow()
    db.session.commit()


def event_tokens(event):
    """The devices paired with an event, newest first."""
    return db.session.execute(
        db.select(ScannerToken).filter_by(event_id=event.id).order_by(ScannerToken.created_at.desc())
    ).scalars().all()


def event_staff(event):
    """Users who may scan at this event (staff and organizers)."""
    return db.session.execute(
        db.select(User).join(EventRole).where(EventRole.event_id == event.id, User.is_active.is_(True))
        .order_by(User.email)
    ).scalars().all()


def get_event_token(event, token_id):
    row = db.session.get(ScannerToken, token_id)
    return row if row is not None and row.event_id == event.id else None
