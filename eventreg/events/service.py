"""Creating and finding events."""
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import abort

from ..extensions import db
from . import demo
from .models import Category, Event, Region


def get_event_by_slug(slug):
    return db.session.execute(db.select(Event).filter_by(slug=slug)).scalar_one_or_none()


def get_event_or_404(slug):
    return get_event_by_slug(slug) or abort(404)


def local_midnight_utc(day, tz_name):
    """The start of a calendar day in the event's timezone, as a UTC moment."""
    return datetime.combine(day, time(0, 0), ZoneInfo(tz_name)).astimezone(timezone.utc)


def seed_demo(today):
    """Create the demo event (or refresh its dates) so that registration is open today.

    Returns (event, created). Idempotent: running it again keeps participants and
    only moves the dates relative to today.
    """
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
    db.session.commit()
    return event, created
