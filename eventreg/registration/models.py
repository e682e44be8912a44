import secrets
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import utcnow
from ..extensions import db
from ..text import collation_key, search_key

CONFIRMED = "confirmed"
WAITLISTED = "waitlisted"
CANCELLED = "cancelled"
STATUSES = (CONFIRMED, WAITLISTED, CANCELLED)

# Reference codes are read aloud and typed at the door: no 0/O, 1/I/L.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_LENGTH = 8


def new_reference():
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def new_secret():
    """The key to the participant's private page: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def binary_text(length):
    """Text compared byte by byte on both databases (SQLite's default; "C" on PostgreSQL): prefix
    ranges over an index, and the order of text.collation_key."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class Registration(db.Model):
    __table_args__ = (
        # One registration per person per event; NULLs (no IIN given, erased data) never clash.
        UniqueConstraint("event_id", "iin"),
        UniqueConstraint("event_id", "email"),
        UniqueConstraint("event_id", "reference"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        Index("ix_registration_waitlist", "event_id", "status", "created_at"),
        Index("ix_registration_phone", "event_id", "phone"),
        # The organizers' list pages through an event in name order.
        Index("ix_registration_sort", "event_id", "sort_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique constraints below lead with event_id.
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    reference: Mapped[str] = mapped_column(String(16), default=new_reference)
    secret: Mapped[str] = mapped_column(String(64), unique=True, default=new_secret)

    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    patronymic: Mapped[str] = mapped_column(String(100), default="")
    latin_name: Mapped[str] = mapped_column(String(200), default="")
    iin: Mapped[str | None] = mapped_column(String(12))
    birth_date: Mapped[date | None]
    sex: Mapped[str | None] = mapped_column(String(1))
    # Comma-separated codes (birth_date_mismatch, sex_mismatch) for the organizer to look at.
    iin_warnings: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"), index=True)
    organization: Mapped[str] = mapped_column(String(300), default="")
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id", ondelete="RESTRICT"), index=True)
    language: Mapped[str] = mapped_column(String(2), default="kk")

    consent_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    consent_version: Mapped[str] = mapped_column(String(32), default="")
    guardian_name: Mapped[str] = mapped_column(String(200), default="")
    guardian_consent_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))

    status: Mapped[str] = mapped_column(String(16), default=CONFIRMED)
    # Part of the signed badge code; reissuing a badge increments it, so older codes stop working.
    badge_generation: Mapped[int] = mapped_column(default=1)
    # Searched by substring (check-in and organizer lists), which a plain b-tree cannot serve.
    search_key: Mapped[str] = mapped_column(String(600), default="")
    # Lists are ordered by this: surname, name and patronymic in Kazakh alphabetical order
    # (text.collation_key), which neither database's own collation gives.
    sort_key: Mapped[str] = mapped_column(binary_text(600), default="")
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))

    event = relationship("Event")
    region = relationship("Region")
    category = relationship("Category")
    search_terms: Mapped[list["SearchTerm"]] = relationship(cascade="all, delete-orphan")

    @property
    def full_name(self):
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)

    @property
    def display_reference(self):
        return f"{self.reference[:4]}-{self.reference[4:]}"

    @property
    def warnings(self):
        return [w for w in self.iin_warnings.split(",") if w]

    def refresh_search_key(self):
        """Recompute the normalized name, its sort key and the words it is searched by (call after a name change)."""
        self.search_key = search_key(self.last_name, self.first_name, self.patronymic, self.latin_name)
        self.sort_key = collation_key(self.last_name, self.first_name, self.patronymic)
        self.search_terms = [SearchTerm(event_id=self.event_id, term=word)
                             for word in sorted(set(self.search_key.split()))[:20]]




class SearchTerm(db.Model):
    """One normalized word of a participant's names: what name search looks up by prefix.

    Staff type the start of a surname or a first name; a range over this index answers in
    well under a millisecond among 100,000 people, where a substring scan of every name
    would not (and SQLite's LIKE folds ASCII only anyway).
    """

    __table_args__ = (Index("ix_search_term_lookup", "event_id", "term"),)

    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"),
                                                 primary_key=True)
    term: Mapped[str] = mapped_column(binary_text(100), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
