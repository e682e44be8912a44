from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import utcnow
from ..extensions import db
from ..i18n import Multilingual

IN = "in"
OUT = "out"

checkpoint_category = Table(
    "checkpoint_category",
    db.metadata,
    Column("checkpoint_id", ForeignKey("checkpoint.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("category.id", ondelete="CASCADE"), primary_key=True),
)



class Checkpoint(Multilingual, db.Model):
    """A place where badges are scanned and the zone behind it: the main entrance, a training room."""

    __table_args__ = (UniqueConstraint("event_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name_kk: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int | None]
    # True: people may leave and come back (entry/exit counting); False: a second entry
    # answers "already checked in" with the first one.
    reentry_allowed: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    event = relationship("Event")
    # Empty means every category may enter. Loaded with the checkpoints in one more query (selectin):
    # the settings page, the door's cached zones and the scanner's list show them for every checkpoint.
    allowed_categories = relationship("Category", secondary=checkpoint_category, lazy="selectin")


class ScannerToken(db.Model):
    """A bearer token for one scanning device: one event, optionally some checkpoints and a shift."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    # SHA-256 of the token: the token acts as a password and is shown once, never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    valid_from: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    # Ids of the checkpoints this device may scan at; empty means all. Kept on the row: every
    # scan reads the token, and this saves it a second query.
    checkpoint_ids: Mapped[list] = mapped_column(JSON, default=list)

    user = relationship("User")
    event = relationship("Event")

    def may_scan_at(self, checkpoint_id):
        return not self.checkpoint_ids or checkpoint_id in self.checkpoint_ids


class Scan(db.Model):
    """Every scan a device sent, with the answer it got: the check-in record and its audit.

    scan_id is made by the device; a retry of the same scan finds this row and gets the same
    answer, so a check-in counts once however often the network makes the device resend it.
    """

    __table_args__ = (
        UniqueConstraint("event_id", "scan_id"),
        Index("ix_scan_first_entry", "registration_id", "checkpoint_id", "result"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    scan_id: Mapped[str] = mapped_column(String(64))
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoint.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3), default=IN)
    result: Mapped[str] = mapped_column(String(32))
    status: Mapped[int]
    # Where the person was before this scan moved them, so that an undo can put them back.
    previous_checkpoint_id: Mapped[int | None] = mapped_column(ForeignKey("checkpoint.id", ondelete="SET NULL"))
    scanned_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("scanner_token.id", ondelete="SET NULL"))
    undone_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    # Decided on the device without the network and synced later (see checkin/offline.py).
    offline: Mapped[bool] = mapped_column(default=False)
    # The answer the device got, returned again as it was if the device resends this scan.
    response: Mapped[dict] = mapped_column(JSON, default=dict)

    checkpoint = relationship("Checkpoint", foreign_keys=[checkpoint_id])
    user = relationship("User")
    token = relationship("ScannerToken")


class Presence(db.Model):
    """Where a person is now: at most one zone at a time (no row, or zone None: not inside)."""

    __table_args__ = (Index("ix_presence_zone", "event_id", "checkpoint_id"),)

    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"),
                                                 primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    checkpoint_id: Mapped[int | None] = mapped_column(ForeignKey("checkpoint.id", ondelete="SET NULL"))
    since: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
