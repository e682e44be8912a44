from datetime import datetime

from sqlalchemy import DDL, JSON, Column, ForeignKey, Index, String, Table, UniqueConstraint, event
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


class ZoneCount(db.Model):
    """How many people are inside a zone now: the presence rows counted by the database itself.

    Kept by triggers on presence (ZONE_COUNT_TRIGGERS), so that every change of where people are
    (a scan, an undo, an offline swap, the end of day, an erasure, a checkpoint deleted) counts, and
    nothing has to remember to. Every scan shows its zone's headcount: counting the zone's presence
    rows instead cost each scan time that grew with the people inside (1 ms on PostgreSQL at 2,700).

    A zone's count is kept in ZONE_COUNT_SHARDS rows, one per share of the people (registration id
    modulo the shards), and the headcount is their sum: on PostgreSQL a counter's row stays locked by
    the scan that changed it until that scan commits, and with one row per zone every scan into the
    zone waited for the one before it to commit (5 % of the check-in rate at 8 clients on 2 cores;
    docs/PERFORMANCE.md). A person always counts in the same share, so no row ever goes below zero.
    """

    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoint.id", ondelete="CASCADE"), primary_key=True)
    shard: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=0)
    inside: Mapped[int] = mapped_column(default=0)


ZONE_COUNT_SHARDS = 16

# Migration 5d1e3c7a9b20 creates these (as the sort-key migration uses the app's collation rule): a change
# to them needs a migration of its own that replaces them.
ZONE_COUNT_TRIGGERS = {
    "postgresql": [
        f"""
        CREATE OR REPLACE FUNCTION zone_count_follows_presence() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            leaving integer := CASE WHEN TG_OP <> 'INSERT' THEN OLD.checkpoint_id END;
            entering integer := CASE WHEN TG_OP <> 'DELETE' THEN NEW.checkpoint_id END;
            leaving_shard integer := CASE WHEN TG_OP <> 'INSERT' THEN OLD.registration_id % {ZONE_COUNT_SHARDS} END;
            entering_shard integer := CASE WHEN TG_OP <> 'DELETE' THEN NEW.registration_id % {ZONE_COUNT_SHARDS} END;
        BEGIN
            IF leaving IS DISTINCT FROM entering THEN
                -- Both counters in one statement, in the order of their keys: two people moving
                -- between the same zones in opposite directions lock them in the same order. Leaving
                -- makes no counter (that of a checkpoint being deleted may be gone already).
                INSERT INTO zone_count (checkpoint_id, shard, inside)
                SELECT zone, part, change
                FROM (VALUES (leaving, leaving_shard, -1), (entering, entering_shard, 1)) AS moves (zone, part, change)
                WHERE zone IS NOT NULL
                  AND (change = 1 OR EXISTS (SELECT FROM zone_count WHERE checkpoint_id = zone AND shard = part))
                ORDER BY zone, part
                ON CONFLICT (checkpoint_id, shard) DO UPDATE SET inside = zone_count.inside + EXCLUDED.inside;
            END IF;
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER presence_counts AFTER INSERT OR DELETE OR UPDATE OF checkpoint_id ON presence
        FOR EACH ROW EXECUTE FUNCTION zone_count_follows_presence()
        """,
    ],
    "sqlite": [
        # One writer at a time: no lock order to keep (the shards are kept all the same: one schema).
        f"""
        CREATE TRIGGER presence_enters AFTER INSERT ON presence WHEN NEW.checkpoint_id IS NOT NULL BEGIN
            INSERT INTO zone_count (checkpoint_id, shard, inside)
            VALUES (NEW.checkpoint_id, NEW.registration_id % {ZONE_COUNT_SHARDS}, 1)
            ON CONFLICT (checkpoint_id, shard) DO UPDATE SET inside = inside + 1;
        END
        """,
        f"""
        CREATE TRIGGER presence_moves AFTER UPDATE OF checkpoint_id ON presence
        WHEN OLD.checkpoint_id IS NOT NEW.checkpoint_id BEGIN
            UPDATE zone_count SET inside = inside - 1
            WHERE checkpoint_id = OLD.checkpoint_id AND shard = OLD.registration_id % {ZONE_COUNT_SHARDS};
            INSERT INTO zone_count (checkpoint_id, shard, inside)
            SELECT NEW.checkpoint_id, NEW.registration_id % {ZONE_COUNT_SHARDS}, 1 WHERE NEW.checkpoint_id IS NOT NULL
            ON CONFLICT (checkpoint_id, shard) DO UPDATE SET inside = inside + 1;
        END
        """,
        f"""
        CREATE TRIGGER presence_leaves AFTER DELETE ON presence WHEN OLD.checkpoint_id IS NOT NULL BEGIN
            UPDATE zone_count SET inside = inside - 1
            WHERE checkpoint_id = OLD.checkpoint_id AND shard = OLD.registration_id % {ZONE_COUNT_SHARDS};
        END
        """,
    ],
}

# For databases made from the models (tests), once every table is there, when this create_all() made the
# presence table: create_all() on a database that has it (a migrated one) makes only what is missing.
# Deployments get the triggers from the migration.
@event.listens_for(db.metadata, "after_create")
def _create_zone_count_triggers(metadata, connection, tables=(), **kw):
    if Presence.__table__ in tables:
        for statement in ZONE_COUNT_TRIGGERS[connection.dialect.name]:
            # DDL() %-formats its text (for %(table)s): the modulo operator is written %%.
            connection.execute(DDL(statement.replace("%", "%%")))
