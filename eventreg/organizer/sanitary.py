"""The seam between the organizer pages and the sanitary attestations (eventreg/attestations).

Everything the organizer pages need of sanitary status goes through here: the status column and
filter of the list, the counts of the dashboard, and erasing a person's documents. While the
attestations feature is not part of the app (its blueprint is not registered, so its tables may
not exist), each function answers "nothing to show" and the pages leave the sanitary parts out.
"""
import time
from pathlib import Path

from flask import current_app
from sqlalchemy import false, select

from ..db import utcnow
from ..extensions import db
from ..registration.models import CANCELLED, Registration

try:
    from ..attestations import service as _attestations
    from ..attestations.status import STATES as _STATES
except ImportError:  # the attestations feature is not in this build
    _attestations, _STATES = None, ()

STATUSES = _STATES
# The dashboard polls every 10 s; a status needs the person's documents, so the counts over a
# whole event are computed at most once a minute per process.
COUNTS_TTL = 60
_counts_cache = {}


def available():
    return _attestations is not None and "attestations" in current_app.blueprints


def status_function():
    """A function (registration, at) -> state code, or None when there is no sanitary status."""
    if not available():
        return None
    return lambda registration, at: _attestations.status_for(registration, at).state


def _states(event, at):
    """{registration id: state} for everyone not cancelled."""
    people = db.session.execute(
        select(Registration.id).where(Registration.event_id == event.id, Registration.status != CANCELLED)).all()
    return {rid: status.state for rid, status in _attestations.statuses_for(event, people, at).items()}


def condition(event, state):
    """A WHERE clause on Registration: people whose sanitary status is `state` now."""
    if not available():
        return false()
    ids = [rid for rid, current in _states(event, utcnow()).items() if current == state]
    return Registration.id.in_(ids)


def counts(event, at):
    """{state: people} for everyone not cancelled, or None when there is no sanitary status."""
    if not available():
        return None
    cached = _counts_cache.get(event.settings_token)
    if cached and time.monotonic() - cached[0] < COUNTS_TTL:
        return cached[1]
    result = {state: 0 for state in STATUSES}
    for state in _states(event, at).values():
        result[state] = result.get(state, 0) + 1
    if len(_counts_cache) > 256:
        _counts_cache.clear()
    _counts_cache[event.settings_token] = (time.monotonic(), result)
    return result


def erase(registration):
    """Delete the person's sanitary documents (rows and files) and health declarations.

    Runs inside the caller's write transaction. The files go once their rows are flushed: should
    the transaction fail after that, a row may outlive its file, never a file its row.
    """
    if not available():
        return
    from ..attestations.models import Evidence, HealthDeclaration

    evidence = db.session.execute(
        select(Evidence).where(Evidence.registration_id == registration.id)).scalars().all()
    files = [Path(_attestations.evidence_path(item)) for item in evidence]
    for item in evidence:
        db.session.delete(item)
    db.session.execute(db.delete(HealthDeclaration).where(HealthDeclaration.registration_id == registration.id))
    db.session.flush()
    for path in files:
        path.unlink(missing_ok=True)
