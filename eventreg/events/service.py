"""Creating and finding events."""
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import abort
from sqlalchemy import bindparam
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from ..extensions import db
from . import demo
from .models import Category, Event, Region

# Built once: every public request looks its event up by slug.
_EVENT_BY_SLUG = db.select(Event).where(Event.slug == bindparam("slug"))


def get_event_by_slug(slug):
    return db.session.execute(_EVENT_BY_SLUG, {"slug": slug}).scalar_one_or_none()


def get_event_or_404(slug):
    return get_event_by_slug(slug) or abort(404)


@dataclass(frozen=True)
class Choice:
    """A region or a category as plain values."""

    id: int
    code: str
    names: dict
    self_registration: bool = True
    badge_color: str = ""

    def name_in(self, language):
        return self.names.get(language) or self.names["kk"]


@dataclass(frozen=True)
class Zone:
    """A checkpoint as plain values, with the categories it admits (empty: all)."""

    id: int
    code: str
    names: dict
    capacity: int | None
    reentry_allowed: bool
    allowed_category_ids: frozenset

    def name_in(self, language):
        return self.names.get(language) or self.names["kk"]

    def admits(self, category_id):
        return not self.allowed_category_ids or category_id in self.allowed_category_ids


@dataclass(frozen=True)
class EventOptions:
    """An event's regions, categories and checkpoints as plain values, for forms and the door."""

    regions: tuple
    categories: tuple
    checkpoints: tuple

    def region(self, region_id):
        return next((r for r in self.regions if r.id == region_id), None)

    def category(self, category_id):
        return next((c for c in self.categories if c.id == category_id), None)

    def checkpoint(self, code):
        return next((c for c in self.checkpoints if c.code == code), None)


_options_cache = {}


def event_options(event):
    """The event's regions, categories and checkpoints, read once per process per version of its settings.

    Every sign-up and every scan needs them; they change rarely, and any change gives the event
    a new settings_token (see _renew_settings_token), so a cached copy is never stale.
    """
    options = _options_cache.get(event.settings_token)
    if options is None:
        options = EventOptions(regions=tuple(_regions(event.id)), categories=tuple(_categories(event.id)),
                               checkpoints=tuple(_checkpoints(event.id)))
        if len(_options_cache) > 256:
            _options_cache.clear()
        _options_cache[event.settings_token] = options
    return options


def full_category_ids(event):
    """The categories whose places are all taken now (not cached: every sign-up changes the counts)."""
    return set(db.session.execute(
        db.select(Category.id).where(Category.event_id == event.id, Category.is_full)).scalars())


def _names(row):
    return {"kk": row.name_kk, "ru": row.name_ru, "en": row.name_en}


def _regions(event_id):
    rows = db.session.execute(
        db.select(Region).where(Region.event_id == event_id).order_by(Region.position, Region.id)).scalars()
    return [Choice(r.id, r.code, _names(r)) for r in rows]


def _categories(event_id):
    rows = db.session.execute(
        db.select(Category).where(Category.event_id == event_id).order_by(Category.position, Category.id)).scalars()
    return [Choice(c.id, c.code, _names(c), c.self_registration, c.badge_color) for c in rows]


def _checkpoints(event_id):
    from ..checkin.models import Checkpoint

    rows = db.session.execute(
        db.select(Checkpoint).where(Checkpoint.event_id == event_id)
        .order_by(Checkpoint.position, Checkpoint.id)).scalars()
    return [Zone(c.id, c.code, _names(c), c.capacity, c.reentry_allowed,
                 frozenset(category.id for category in c.allowed_categories)) for c in rows]


@sa_event.listens_for(Session, "before_flush")
def _renew_settings_token(session, _context, _instances):
    """Any change to an event's regions, categories or checkpoints renews its settings token."""
    from ..checkin.models import Checkpoint

    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, (Region, Category, Checkpoint)):
            event = obj.event or session.get(Event, obj.event_id)
            if event is not None:
                event.settings_token = secrets.token_hex(16)


def local_midnight_utc(day, tz_name):
    """The start of a calendar day in the event's timezone, as a UTC moment."""
    return datetime.combine(day, time(0, 0), ZoneInfo(tz_name)).astimezone(timezone.utc)


def seed_demo(today):
    """Create the demo event (or refresh its dates) so that registration is open today.

    Returns (event, created). Idempotent: running it again keeps participants and
    only moves the dates relative to today.
    """
    from ..attestations.service import ensure_default_policy
    from ..checkin.models import Checkpoint

    starts_on = today + timedelta(days=30)
    dates = {
        "starts_on": starts_on,
        "ends_on": starts_on + timedelta(days=2),
        "registration_opens_at": local_midnight_utc(today - timedelta(days=7), demo.DEMO_EVENT["timezone"]),
        "registration_closes_at": local_midnight_utc(starts_on - timedelta(days=2), demo.DEMO_EVENT["timezone"]),
    }
    event = get_event_by_slug(demo.DEMO_SLUG)
    created = event is None
    if created:
        event = Event(**demo.DEMO_EVENT, **dates)
        db.session.add(event)
        for position, (code, kk, ru, en) in enumerate(demo.REGIONS_2021):
            event.regions.append(Region(code=code, name_kk=kk, name_ru=ru, name_en=en, position=position))
        for position, (code, kk, ru, en, colour, capacity, public) in enumerate(demo.CATEGORIES):
            event.categories.append(Category(
                code=code, name_kk=kk, name_ru=ru, name_en=en, badge_color=colour,
                capacity=capacity, self_registration=public, position=position,
            ))
        for position, (code, kk, ru, en, capacity, reentry) in enumerate(demo.CHECKPOINTS):
            db.session.add(Checkpoint(
                event=event, code=code, name_kk=kk, name_ru=ru, name_en=en,
                capacity=capacity, reentry_allowed=reentry, position=position,
            ))
    else:
        for key, value in dates.items():
            setattr(event, key, value)
    ensure_default_policy(event)
    db.session.commit()
    return event, created
