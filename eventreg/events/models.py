import secrets
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, String, UniqueConstraint, and_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import as_utc, utcnow
from ..extensions import db
from ..i18n import Multilingual


class Places:
    """A counter of confirmed places against an optional capacity (events and categories)."""

    @hybrid_property
    def is_full(self):
        return self.capacity is not None and self.confirmed_count >= self.capacity

    @is_full.inplace.expression
    @classmethod
    def _is_full_expression(cls):
        return and_(cls.capacity.is_not(None), cls.confirmed_count >= cls.capacity)


class Event(Places, Multilingual, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name_kk: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    venue: Mapped[str] = mapped_column(String(300), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Almaty")
    registration_opens_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    registration_closes_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    # Total places; None means unlimited. confirmed_count is maintained by the
    # registration service with conditional updates, so it never exceeds capacity.
    capacity: Mapped[int | None]
    confirmed_count: Mapped[int] = mapped_column(default=0)
    minor_age: Mapped[int] = mapped_column(default=18)
    # Changes whenever the event's regions or categories change (see service.event_options):
    # forms read those lists from a per-process cache keyed by this token.
    settings_token: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    regions: Mapped[list["Region"]] = relationship(
        back_populates="event", order_by="Region.position", cascade="all, delete-orphan"
    )
    categories: Mapped[list["Category"]] = relationship(
        back_populates="event", order_by="Category.position", cascade="all, delete-orphan"
    )

    @property
    def tz(self):
        return ZoneInfo(self.timezone)

    def registration_state(self, at=None):
        """'not_yet', 'open' or 'closed' at the given moment (default: now)."""
        at = at or utcnow()
        opens, closes = as_utc(self.registration_opens_at), as_utc(self.registration_closes_at)
        if opens and at < opens:
            return "not_yet"
        if closes and at >= closes:
            return "closed"
        return "open"

    def __repr__(self):
        return f"<Event {self.slug}>"


class Region(Multilingual, db.Model):
    """A region (delegation) of an event; the list is kept per event and editable."""

    __table_args__ = (UniqueConstraint("event_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name_kk: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="regions")


class Category(Places, Multilingual, db.Model):
    """A participant category: its badge colour, optional capacity, and whether people may pick it themselves."""

    __table_args__ = (UniqueConstraint("event_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name_kk: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    badge_color: Mapped[str] = mapped_column(String(7), default="#1f6feb")
    capacity: Mapped[int | None]
    confirmed_count: Mapped[int] = mapped_column(default=0)
    # Official guests, press and staff are added by organizers, not through the public form.
    self_registration: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="categories")
