import secrets
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..db import utcnow
from ..events.models import Event
from ..extensions import db
from .status import KINDS, MODES, OFF, PENDING, REVIEW_STATUSES, PolicyRules


class SanitaryPolicy(db.Model):
    """What an event requires at the entrance; every window is a setting (DOMAIN.md: the rules changed over 2021)."""

    __table_args__ = (CheckConstraint(f"mode IN {MODES!r}", name="sanitary_mode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), unique=True)
    # Off until an organizer switches enforcement on: an event is not blocked by a feature it never set up.
    mode: Mapped[str] = mapped_column(String(8), default=OFF)
    # Comma-separated evidence kinds; empty: no document needed (declaration only).
    accepted_kinds: Mapped[str] = mapped_column(String(200), default=",".join(KINDS))
    pcr_hours: Mapped[int] = mapped_column(default=72)
    first_dose_days: Mapped[int] = mapped_column(default=21)
    full_course_days: Mapped[int] = mapped_column(default=365)
    recovery_days: Mapped[int] = mapped_column(default=90)
    declaration_required: Mapped[bool] = mapped_column(default=True)
    max_temperature: Mapped[float] = mapped_column(default=37.0)
    expiring_soon_hours: Mapped[int] = mapped_column(default=48)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()

    @property
    def kinds(self):
        return tuple(k for k in (self.accepted_kinds or "").split(",") if k in KINDS)

    def rules(self):
        return PolicyRules(
            mode=self.mode, accepted_kinds=frozenset(self.kinds), pcr_hours=self.pcr_hours,
            first_dose_days=self.first_dose_days, full_course_days=self.full_course_days,
            recovery_days=self.recovery_days, declaration_required=self.declaration_required,
            max_temperature=float(self.max_temperature), expiring_soon_hours=self.expiring_soon_hours,
        )


class Evidence(db.Model):
    """A document a participant gave: what it proves, from when, and what the organizer said of it."""

    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS!r}", name="evidence_kind"),
        CheckConstraint(f"review_status IN {REVIEW_STATUSES!r}", name="evidence_review_status"),
        # The review queue: an event's documents by status, oldest first.
        Index("ix_evidence_queue", "event_id", "review_status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    # Dose, certificate or exemption date; for a PCR test the local date of the sample.
    taken_on: Mapped[date | None]
    # PCR sample time (UTC): its window is counted in hours from this moment.
    taken_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    certificate_number: Mapped[str] = mapped_column(String(64), default="")
    # Random name of the file in <instance>/evidence/: never the name the participant's device sent.
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    review_status: Mapped[str] = mapped_column(String(10), default=PENDING)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    reject_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    registration = relationship("Registration")
    reviewed_by = relationship("User")

    @property
    def extension(self):
        return {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(self.content_type, "bin")

    @property
    def is_image(self):
        return self.content_type.startswith("image/")


class HealthDeclaration(db.Model):
    """A same-day health self-declaration, made on the phone or by staff at the entrance."""

    __table_args__ = (Index("ix_health_declaration_day", "registration_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    # The calendar day in the event's timezone the declaration is for.
    day: Mapped[date]
    no_symptoms: Mapped[bool]
    no_contact: Mapped[bool]
    temperature: Mapped[float | None]
    # None: the participant declared it themselves; else the staff member who filled it in.
    made_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    made_by = relationship("User")


class SanitaryOverride(db.Model):
    """An organizer's written permission for one entry despite the status; the next allowed scan uses it.

    Short-lived (SANITARY_OVERRIDE_MINUTES): it covers the person standing at the door now, not
    the rest of the event.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))


@sa_event.listens_for(Session, "before_flush")
def _renew_settings_token(session, _context, _instances):
    """A policy change renews the event's settings token: the per-process policy cache keys on it."""
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, SanitaryPolicy):
            event = obj.event or session.get(Event, obj.event_id)
            if event is not None:
                event.settings_token = secrets.token_hex(16)
