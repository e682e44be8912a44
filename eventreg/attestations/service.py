"""Sanitary attestations: the policy, evidence files, reviews, declarations, overrides, and the status.

The rule itself is status.sanitary_status(); this module loads what it needs and records changes.
Every change of evidence, review, declaration, policy and override goes to the audit trail.
"""
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import Boolean, Date, DateTime, Float, String, bindparam, cast, func, literal_column, null, union_all

from ..audit import record
from ..db import as_utc, utcnow, write_transaction
from ..extensions import db
from ..registration.models import CANCELLED, Registration
from . import status as s
from .messages import describe
from .models import Evidence, HealthDeclaration, SanitaryOverride, SanitaryPolicy

# What a document may be, told by its first bytes (never by its name or the browser's word for it).
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
CHUNK = 64 * 1024


class AttestationError(Exception):
    """Something the rules refuse; code says why (see messages.ERRORS), field where."""

    def __init__(self, code, field=None, **params):
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = params


# --- the policy ---------------------------------------------------------------------------------

def get_policy(event):
    """The event's policy row, or None."""
    return db.session.execute(db.select(SanitaryPolicy).filter_by(event_id=event.id)).scalar_one_or_none()


def default_policy(event):
    """A policy with DOMAIN.md's 2021 defaults (PCR 72 h, first dose 21 days, full course 365, recovery 90)."""
    return SanitaryPolicy(event=event)


def ensure_default_policy(event):
    """Give the event the default policy if it has none (the caller commits)."""
    if event.id is None or get_policy(event) is None:
        db.session.add(default_policy(event))


_rules_cache = {}


def policy_rules(event):
    """The event's policy as plain values (None without a policy), read once per process per settings token.

    A policy change renews the event's settings_token (models._renew_settings_token), so the
    cached copy is never stale; each scan then costs no query for the policy.
    """
    key = event.settings_token
    if key not in _rules_cache:
        policy = get_policy(event)
        if len(_rules_cache) > 256:
            _rules_cache.clear()
        _rules_cache[key] = policy.rules() if policy else None
    return _rules_cache[key]


POLICY_FIELDS = ("mode", "pcr_hours", "first_dose_days", "full_course_days", "recovery_days",
                 "declaration_required", "max_temperature", "expiring_soon_hours")


def update_policy(event, values, *, user_id):
    """Save the event's policy from a dict of POLICY_FIELDS and `kinds` (a list)."""
    event_id = event.id
    with write_transaction():
        policy = db.session.execute(
            db.select(SanitaryPolicy).filter_by(event_id=event_id).with_for_update()).scalar_one_or_none()
        if policy is None:
            policy = SanitaryPolicy(event_id=event_id)
            db.session.add(policy)
        for name in POLICY_FIELDS:
            setattr(policy, name, values[name])
        policy.accepted_kinds = ",".join(k for k in s.KINDS if k in values["kinds"])
        record("sanitary_policy_changed", event_id=event_id, user_id=user_id,
               **{name: values[name] for name in POLICY_FIELDS}, kinds=policy.accepted_kinds)
    return policy


# --- the status ---------------------------------------------------------------------------------

_E, _D = literal_column("'e'", String), literal_column("'d'", String)


# What the status needs of each (read by _facts() and by facts_columns()).
_EVIDENCE_FIELDS = (Evidence.kind, Evidence.taken_on, Evidence.taken_at, Evidence.review_status,
                    Evidence.reject_reason)
_DECLARATION_FIELDS = (HealthDeclaration.day, HealthDeclaration.at, HealthDeclaration.no_symptoms,
                       HealthDeclaration.no_contact, HealthDeclaration.temperature)


def _facts_query():
    """Evidence and declarations of a set of registrations in one round trip (a UNION ALL of both tables)."""
    ids = bindparam("ids", expanding=True)
    evidence = db.select(
        _E.label("source"), Evidence.registration_id, *_EVIDENCE_FIELDS, cast(null(), Date).label("day"),
        cast(null(), DateTime(timezone=True)).label("at"), cast(null(), Boolean).label("no_symptoms"),
        cast(null(), Boolean).label("no_contact"), cast(null(), Float).label("temperature"),
    ).where(Evidence.registration_id.in_(ids))
    declarations = db.select(
        _D, HealthDeclaration.registration_id, cast(null(), String), cast(null(), Date),
        cast(null(), DateTime(timezone=True)), cast(null(), String), cast(null(), String), *_DECLARATION_FIELDS,
    ).where(HealthDeclaration.registration_id.in_(ids))
    return union_all(evidence, declarations)


_FACTS = _facts_query()


@dataclass(frozen=True)
class _Row:
    kind: str | None
    taken_on: object
    taken_at: object
    review_status: str | None
    reject_reason: str | None
    day: object
    at: object
    no_symptoms: bool | None
    no_contact: bool | None
    temperature: float | None


def _facts(registration_ids):
    """{registration id: (evidence, declarations)} as plain rows."""
    found = {rid: ([], []) for rid in registration_ids}
    if not registration_ids:
        return found
    for row in db.session.execute(_FACTS, {"ids": list(registration_ids)}):
        fact = _Row(row.kind, row.taken_on, as_utc(row.taken_at), row.review_status, row.reject_reason,
                    row.day, as_utc(row.at), row.no_symptoms, row.no_contact, row.temperature)
        found[row.registration_id][0 if row.source == "e" else 1].append(fact)
    return found


def facts_columns(registration_id, dialect_name):
    """A person's evidence and declarations as two JSON arrays, for a statement that reads the person
    anyway (the door's, checkin.service): their status then costs no statement of its own.
    Read back with facts_from_columns()."""
    if dialect_name == "sqlite":
        aggregate, row = func.json_group_array, func.json_array
    else:
        aggregate, row = func.json_agg, func.json_build_array

    def facts(model, fields):
        return db.select(aggregate(row(*fields))).where(model.registration_id == registration_id).scalar_subquery()
    return facts(Evidence, _EVIDENCE_FIELDS), facts(HealthDeclaration, _DECLARATION_FIELDS)


def facts_from_columns(evidence, declarations):
    """(evidence, declarations) as _facts() gives them, from the values of facts_columns()."""
    def rows(value):  # SQLite gives the JSON text; psycopg parses it (and gives None for no rows)
        return json.loads(value) if isinstance(value, str) else (value or [])

    def day(value):
        return date.fromisoformat(value) if value else None

    def moment(value):
        return as_utc(datetime.fromisoformat(value)) if value else None

    return ([_Row(kind, day(taken_on), moment(taken_at), review_status, reject_reason, None, None, None, None, None)
             for kind, taken_on, taken_at, review_status, reject_reason in rows(evidence)],
            [_Row(None, None, None, None, None, day(on), moment(at), bool(no_symptoms), bool(no_contact), temperature)
             for on, at, no_symptoms, no_contact, temperature in rows(declarations)])


def checks_documents(event):
    """Whether the event's policy looks at documents at all (off: nothing is loaded)."""
    rules = policy_rules(event)
    return rules is not None and rules.mode != s.OFF


def status_for(registration, at=None, facts=None, event=None):
    """The registration's sanitary status at a moment (default: now). Nothing is loaded when the mode is off.

    facts: their (evidence, declarations) when the caller read them already (facts_from_columns);
    event: the registration's event when the caller has it (not looked up through the registration)."""
    at = at or utcnow()
    event = event or registration.event
    rules = policy_rules(event)
    if not checks_documents(event):
        return s.sanitary_status(rules, (), (), at, event.tz)
    evidence, declarations = facts if facts is not None else _facts([registration.id])[registration.id]
    return s.sanitary_status(rules, evidence, declarations, at, event.tz)


def statuses_for(event, registrations, at=None, chunk=500):
    """{registration id: status} for many registrations of one event (lists, exports): a query per chunk."""
    at = at or utcnow()
    rules = policy_rules(event)
    ids = [r.id for r in registrations]
    if not checks_documents(event):
        return {rid: s.sanitary_status(rules, (), (), at, event.tz) for rid in ids}
    result = {}
    for start in range(0, len(ids), chunk):
        for rid, (evidence, declarations) in _facts(ids[start:start + chunk]).items():
            result[rid] = s.sanitary_status(rules, evidence, declarations, at, event.tz)
    return result


def status_card(status, tz, language):
    """The status as the door and the API show it: state, end of validity, reason code and text."""
    with force_locale(language):
        text = describe(status, tz)
    return {"state": status.state, "reason": status.reason, "text": text,
            "valid_until": status.valid_until.isoformat() if status.valid_until else None}


def door_check(registration, at, *, language="kk", facts=None, event=None):
    """The sanitary part of a check-in, decided before the scan's write transaction.

    Returns (decision, card, override_id): decision "allow", "warn" or "block"; card goes into the
    answer (None when the event checks nothing). An unused override of an organizer turns "block"
    into "warn": override_id is then that override, which the entry uses up when it is written
    (use_override). facts, event: as for status_for().
    """
    event = event or registration.event
    if not checks_documents(event):
        return s.ALLOW, None, None
    rules = policy_rules(event)
    status = status_for(registration, at, facts, event)
    decision = s.door_decision(status, rules.mode)
    card = status_card(status, event.tz, language)
    override_id = None
    if decision == s.BLOCK:
        override_id = _usable_override(registration.id, at)
        if override_id is not None:
            card["override"] = True
            decision = s.WARN
    if decision == s.WARN:
        card["warning"] = True
    return decision, card, override_id


def use_override(override_id, at, *, event_id, registration_id, state, user_id=None, token_id=None):
    """Use up the override that door_check() let an entry in by, in that entry's write transaction.
    False when another entry used it meanwhile (a compare-and-set: the entry is then decided again).
    state: the sanitary state it let the person in with, for the audit trail."""
    used = db.session.execute(
        db.update(SanitaryOverride).where(SanitaryOverride.id == override_id, SanitaryOverride.used_at.is_(None))
        .values(used_at=at).execution_options(synchronize_session=False)).rowcount == 1
    if used:
        record("sanitary_override_used", event_id=event_id, user_id=user_id, token_id=token_id,
               registration_id=registration_id, override_id=override_id, state=state)
    return used


def _usable_override(registration_id, at):
    return db.session.execute(
        db.select(SanitaryOverride.id)
        .where(SanitaryOverride.registration_id == registration_id, SanitaryOverride.used_at.is_(None),
               SanitaryOverride.expires_at > at)
        .order_by(SanitaryOverride.created_at.desc()).limit(1)
    ).scalar_one_or_none()


def grant_override(event, registration, reason, *, user_id, at=None):
    """An organizer lets this person in once despite the status, with a written reason."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise AttestationError("reason_required", "reason")
    at = at or utcnow()
    minutes = current_app.config["SANITARY_OVERRIDE_MINUTES"]
    status = status_for(registration, at)
    override = SanitaryOverride(event_id=event.id, registration_id=registration.id, user_id=user_id,
                                reason=reason[:500], created_at=at, expires_at=at + timedelta(minutes=minutes))
    with write_transaction():
        db.session.add(override)
        db.session.flush()
        record("sanitary_override", event_id=event.id, user_id=user_id, registration_id=registration.id,
               override_id=override.id, reason=override.reason, state=status.state,
               expires_at=override.expires_at.isoformat())
    return override


# --- evidence -------------------------------------------------------------------------------------

def evidence_dir():
    path = Path(current_app.instance_path) / "evidence"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def sniff(head):
    """The content type of a document from its first bytes, or None for anything else."""
    return next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)


def _check_name(filename):
    """Refuse names that try to reach outside a folder; the name is never used to store the file."""
    name = filename or ""
    if "/" in name or "\\" in name or "\x00" in name or ".." in name or name.startswith("."):
        raise AttestationError("file_name", "document")


def _store(stream, limit):
    """Copy the upload to a temporary file beside the store, then give it its random name.

    Returns (stored_name, content_type, size). On any refusal the temporary file is removed:
    nothing is left on disk.
    """
    folder = evidence_dir()
    handle, temp_path = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        size, head = 0, b""
        with os.fdopen(handle, "wb") as out:
            while chunk := stream.read(CHUNK):
                if len(head) < 16:
                    head += chunk[:16 - len(head)]
                size += len(chunk)
                if size > limit:
                    raise AttestationError("file_too_large", "document", limit=limit // (1024 * 1024))
                out.write(chunk)
        if size == 0:
            raise AttestationError("file_empty", "document")
        content_type = sniff(head)
        if content_type is None:
            raise AttestationError("file_type", "document")
        stored_name = secrets.token_hex(16)
        os.replace(temp_path, folder / stored_name)
    except BaseException:
        Path(temp_path).unlink(missing_ok=True)
        raise
    return stored_name, content_type, size


def add_evidence(registration, *, kind, taken_on, taken_time=None, certificate_number="", file=None,
                 filename="", user_id=None, at=None):
    """Attach a document to a registration: checked, stored under a random name, waiting for review.

    `taken_time` (local time of the PCR sample) with `taken_on` gives the sample moment in the
    event's timezone. Raises AttestationError; a refused upload leaves no file behind.
    """
    at = at or utcnow()
    event = registration.event
    if registration.status == CANCELLED:
        raise AttestationError("cancelled")
    rules = policy_rules(event) or s.PolicyRules()
    if kind not in s.KINDS or (rules.accepted_kinds and kind not in rules.accepted_kinds):
        raise AttestationError("kind_not_accepted", "kind")
    taken_at = None
    if kind == s.PCR_NEGATIVE:
        if taken_time is None:
            raise AttestationError("time_required", "taken_time")
        taken_at = datetime.combine(taken_on, taken_time, event.tz).astimezone(timezone.utc)
    if taken_on > at.astimezone(event.tz).date() or (taken_at is not None and taken_at > at):
        raise AttestationError("date_in_future", "taken_on")
    if file is None:
        raise AttestationError("file_missing", "document")
    _check_name(filename)
    stored_name, content_type, size = _store(file, current_app.config["EVIDENCE_MAX_BYTES"])
    evidence = Evidence(event_id=event.id, registration_id=registration.id, kind=kind, taken_on=taken_on,
                        taken_at=taken_at, certificate_number=(certificate_number or "").strip()[:64],
                        stored_name=stored_name, content_type=content_type, size=size, created_at=at)
    try:
        with write_transaction():
            db.session.add(evidence)
            db.session.flush()
            record("evidence_added", event_id=event.id, user_id=user_id, registration_id=registration.id,
                   evidence_id=evidence.id, kind=kind, content_type=content_type, size=size)
    except BaseException:
        (evidence_dir() / stored_name).unlink(missing_ok=True)
        raise
    return evidence


def evidence_path(evidence):
    return evidence_dir() / evidence.stored_name


def get_evidence(event, evidence_id, registration=None):
    """A document of this event (and of this registration, when given), or None."""
    query = db.select(Evidence).filter_by(id=evidence_id, event_id=event.id)
    if registration is not None:
        query = query.filter_by(registration_id=registration.id)
    return db.session.execute(query).scalar_one_or_none()


def evidence_of(registration):
    return db.session.execute(
        db.select(Evidence).filter_by(registration_id=registration.id).order_by(Evidence.created_at.desc())
    ).scalars().all()


def review_queue(event, review_status=s.PENDING, limit=100):
    """Documents of the event with this review status (None: all, pending first), oldest first."""
    query = db.select(Evidence).filter_by(event_id=event.id)
    if review_status:
        query = query.filter_by(review_status=review_status)
    pending_first = db.case((Evidence.review_status == s.PENDING, 0), else_=1)
    return db.session.execute(query.order_by(pending_first, Evidence.created_at, Evidence.id).limit(limit)
                              ).scalars().all()


def review(evidence, *, approve, reason="", user_id, at=None):
    """Accept or refuse a document (a refusal needs a reason the participant will read)."""
    reason = " ".join((reason or "").split())
    if not approve and not reason:
        raise AttestationError("reason_required", "reason")
    at = at or utcnow()
    evidence_id = evidence.id
    with write_transaction():
        row = db.session.get(Evidence, evidence_id, with_for_update=True)
        row.review_status = s.APPROVED if approve else s.REJECTED
        row.reject_reason = "" if approve else reason[:500]
        row.reviewed_by_id, row.reviewed_at = user_id, at
        record("evidence_reviewed", event_id=row.event_id, user_id=user_id, registration_id=row.registration_id,
               evidence_id=row.id, decision=row.review_status, reason=row.reject_reason)
    return row


# --- declarations -----------------------------------------------------------------------------------

def declare(registration, *, no_symptoms, no_contact, temperature, user_id=None, at=None):
    """Record today's health declaration (the local day of the event's timezone)."""
    at = at or utcnow()
    if registration.status == CANCELLED:
        raise AttestationError("cancelled")
    declaration = HealthDeclaration(
        registration_id=registration.id, day=at.astimezone(registration.event.tz).date(),
        no_symptoms=bool(no_symptoms), no_contact=bool(no_contact),
        temperature=float(temperature) if temperature is not None else None, made_by_id=user_id, at=at)
    with write_transaction():
        db.session.add(declaration)
        db.session.flush()
        record("health_declaration", event_id=registration.event_id, user_id=user_id,
               registration_id=registration.id, declaration_id=declaration.id, day=declaration.day.isoformat(),
               no_symptoms=declaration.no_symptoms, no_contact=declaration.no_contact,
               temperature=declaration.temperature)
    return declaration


def find_by_reference(event, reference):
    """The registration of this event with this reference code (dashes and case ignored), or None."""
    compact = "".join(ch for ch in (reference or "").upper() if ch.isalnum())
    if len(compact) != 8:
        return None
    return db.session.execute(
        db.select(Registration).filter_by(event_id=event.id, reference=compact)).scalar_one_or_none()
