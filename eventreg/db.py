"""Database helpers shared by every feature: time, SQLite tuning and write transactions."""
import fcntl
import os
import threading
from contextlib import contextmanager, nullcontext
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


class WriterQueue:
    """Lets SQLite writers of all worker processes wait their turn in the kernel.

    SQLite's busy handler polls: a writer that finds the database locked sleeps for
    growing intervals (up to 100 ms) even when the lock frees a moment later, which
    caps concurrent sign-ups and check-ins at a few dozen per second with long tails.
    An exclusive flock() on a file beside the database wakes the next writer as soon
    as the previous one commits. It only orders our own write transactions; SQLite's
    locking still guarantees correctness for anything else that writes.
    """

    def __init__(self, database_path):
        self.path = f"{database_path}.writers"
        self._thread_lock = threading.Lock()
        self._fd = None
        self._pid = None

    def _descriptor(self):
        # A descriptor inherited through fork() would share its lock with the parent.
        if self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    @contextmanager
    def turn(self):
        with self._thread_lock:
            fd = self._descriptor()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)


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

    database = engine.url.database
    if database and database != ":memory:":
        engine.info_writer_queue = WriterQueue(database)


@contextmanager
def write_transaction():
    """Run the block in a transaction that holds the write lock from its start; commit at the end.

    On SQLite the read transaction the request may have opened is ended first (its
    snapshot could not be upgraded to a write; it holds no changes) and BEGIN IMMEDIATE is taken in turn
    with the other writers. On PostgreSQL the current transaction simply continues:
    row locks and conditional updates do the work there. Rolls back on any exception.
    """
    session = db.session
    queue = getattr(db.engine, "info_writer_queue", None)
    sqlite = is_sqlite(db.engine)
    if sqlite:
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("write_transaction() started with unsaved changes in the session")
        # Ends the read transaction; a commit, unlike a rollback, keeps loaded objects loaded.
        session.commit()
    with queue.turn() if queue else nullcontext():
        if sqlite:
            session.connection(execution_options={"immediate": True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
