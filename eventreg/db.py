"""Database helpers shared by every feature: time, SQLite tuning and write transactions."""
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import event

from .extensions import db


def utcnow():
    """The current moment as an aware UTC datetime (the only kind we store)."""
    return datetime.now(timezone.utc)


def as_utc(value):
    """SQLite returns naive datetimes for aware columns: read them back as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def is_sqlite(engine):
    return engine.dialect.name == "sqlite"


def configure_sqlite(engine, busy_timeout_ms):
    """WAL, foreign keys and explicit transactions for the embedded SQLite database.

    pysqlite opens its transactions lazily and in DEFERRED mode, so a transaction
    that reads first and writes later fails at once with "database is locked" when
    another process wrote in between (busy_timeout does not help there). We take
    over BEGIN ourselves, and write paths ask for BEGIN IMMEDIATE (see
    write_transaction), which waits for the write lock instead of failing.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get("immediate"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


@contextmanager
def write_transaction():
    """Run the block in a fresh transaction that holds the write lock from its start.

    On SQLite this is BEGIN IMMEDIATE; on PostgreSQL an ordinary transaction (row
    locks and conditional updates do the work there). Commits on success, rolls
    back on any exception. Objects loaded before are expired and reload inside.
    """
    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("write_transaction() started with unsaved changes in the session")
    session.rollback()  # ends the read-only transaction the request may have opened
    session.connection(execution_options={"immediate": True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


