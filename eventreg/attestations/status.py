"""A participant's sanitary status at a moment: the one rule the door, the pages and the exports share.

Pure: no database, no request, no clock. Callers pass the event's policy, the participant's
evidence and health declarations, the moment (an aware datetime) and the event's timezone;
eventreg.attestations.service.status_for() loads them for a registration.

Validity windows (all ends are exclusive: at the end moment the evidence is no longer valid):
- negative PCR test: from the sample time (`taken_at`, UTC) for `pcr_hours` hours, to the minute.
  A PCR with only a date counts from the start of that day in the event's timezone (the shortest
  window the date allows).
- first dose, full course, recovery: "N days" are calendar days in the event's timezone, the day
  of the dose (or of the recovery certificate) being day 1. A first dose on 1 March valid 21 days
  covers 1-21 March and ends at 00:00 on 22 March, local time (Asia/Almaty 2021: 21 March 18:00 UTC).
- medical exemption: from its date, permanent.
Evidence dated after the moment does not count yet.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

VACCINATION_FIRST_DOSE = "vaccination_first_dose"
VACCINATION_FULL = "vaccination_full"
PCR_NEGATIVE = "pcr_negative"
RECOVERY = "recovery"
MEDICAL_EXEMPTION = "medical_exemption"
KINDS = (VACCINATION_FULL, VACCINATION_FIRST_DOSE, PCR_NEGATIVE, RECOVERY, MEDICAL_EXEMPTION)

# Review status of a piece of evidence.
PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
REVIEW_STATUSES = (PENDING, APPROVED, REJECTED)

# Enforcement modes of a policy.
BLOCK = "block"
WARN = "warn"
OFF = "off"
MODES = (BLOCK, WARN, OFF)

# States of a status (REJECTED is shared with the review status of the same name).
VALID = "valid"
EXPIRING_SOON = "expiring_soon"
MISSING = "missing"
EXPIRED = "expired"
PENDING_REVIEW = "pending_review"
NOT_REQUIRED = "not_required"
STATES = (VALID, EXPIRING_SOON, PENDING_REVIEW, MISSING, EXPIRED, REJECTED, NOT_REQUIRED)
ENTRY_STATES = frozenset({VALID, EXPIRING_SOON, NOT_REQUIRED})

# What a participant may still have to provide (SanitaryStatus.needs).
NEEDS_EVIDENCE = "evidence"
NEEDS_DECLARATION = "declaration"

# Answers of door_decision().
ALLOW = "allow"


@dataclass(frozen=True)
class PolicyRules:
    """An event's sanitary policy as plain values (the SanitaryPolicy row gives one with .rules()).

    An empty accepted_kinds means no document is required (a declaration-only policy).
    """

    mode: str = OFF
    accepted_kinds: frozenset = frozenset(KINDS)
    pcr_hours: int = 72
    first_dose_days: int = 21
    full_course_days: int = 365
    recovery_days: int = 90
    declaration_required: bool = True
    max_temperature: float = 37.0
    expiring_soon_hours: int = 48


@dataclass(frozen=True)
class SanitaryStatus:
    """The answer: a state, until when the current evidence is valid, and why, as a code with parameters.

    valid_until is the end of the best approved evidence (None: permanent, or nothing valid);
    a same-day declaration is needed on top of it when the policy asks for one. `needs` lists
    what the participant still has to provide ("evidence", "declaration").
    """

    state: str
    valid_until: datetime | None = None
    reason: str = ""
    params: dict = field(default_factory=dict)
    needs: tuple = ()

    @property
    def allows_entry(self):
        return self.state in ENTRY_STATES


def _aware(moment):
    """Datetimes read back from SQLite are naive UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def local_midnight(day, tz):
    """00:00 of a calendar day in the event's timezone, as a UTC moment."""
    return datetime.combine(day, time(0, 0), tz).astimezone(timezone.utc)


def validity_window(evidence, policy, tz):
    """(start, end) of the evidence as UTC moments; start None = since always, end None = permanent."""
    kind = evidence.kind
    day = evidence.taken_on
    if kind == PCR_NEGATIVE:
        start = _aware(evidence.taken_at) or (local_midnight(day, tz) if day else None)
        if start is None:
            return None, datetime.min.replace(tzinfo=timezone.utc)  # no date at all: never valid
        return start, start + timedelta(hours=policy.pcr_hours)
    start = local_midnight(day, tz) if isinstance(day, date) else None
    if kind == MEDICAL_EXEMPTION:
        return start, None
    days = {VACCINATION_FIRST_DOSE: policy.first_dose_days, VACCINATION_FULL: policy.full_course_days,
            RECOVERY: policy.recovery_days}[kind]
    if day is None:
        return None, datetime.min.replace(tzinfo=timezone.utc)
    return start, local_midnight(day + timedelta(days=days), tz)


def _evidence_part(policy, evidence_list, at, tz):
    """State of the documents alone: (state, valid_until, reason, params)."""
    if not policy.accepted_kinds:
        return VALID, None, "valid_permanent", {}
    valid_ends, pending_now, expired_until, rejected = [], False, None, None
    for evidence in evidence_list:
        if evidence.kind not in policy.accepted_kinds:
            continue
        if evidence.review_status == REJECTED:
            rejected = evidence
            continue
        start, end = validity_window(evidence, policy, tz)
        if start is not None and at < start:
            continue  # dated in the future: not valid yet
        if end is not None and end <= at:
            # An unreviewed document that has run out can no longer help either: it is expired.
            expired_until = end if expired_until is None else max(expired_until, end)
        elif evidence.review_status == APPROVED:
            valid_ends.append(end)
        elif evidence.review_status == PENDING:
            pending_now = True
    if valid_ends:
        until = None if None in valid_ends else max(valid_ends)
        if until is None:
            return VALID, None, "valid_permanent", {}
        if until - at <= timedelta(hours=policy.expiring_soon_hours):
            return EXPIRING_SOON, until, "expiring_soon", {"until": until}
        return VALID, until, "valid_until", {"until": until}
    # Ordered by what the participant (or the organizer) can act on first.
    if pending_now:
        return PENDING_REVIEW, None, "evidence_pending", {}
    if rejected is not None:
        return REJECTED, None, "evidence_rejected", {"reason": rejected.reject_reason or ""}
    if expired_until is not None:
        return EXPIRED, None, "evidence_expired", {"until": expired_until}
    return MISSING, None, "evidence_missing", {}


def _declaration_problem(policy, declarations, at, tz):
    """None when today's declaration (the latest one of the local day) is in order, else (state, reason, params)."""
    today = at.astimezone(tz).date()
    todays = [d for d in declarations if d.day == today]
    if not todays:
        stale = any(d.day < today for d in declarations)
        return MISSING, "declaration_stale" if stale else "declaration_missing", {}
    # A later declaration of the same day (staff measuring again at the entrance) replaces earlier ones.
    latest = max(todays, key=lambda d: _aware(d.at))
    if not latest.no_symptoms:
        return REJECTED, "declaration_symptoms", {}
    if not latest.no_contact:
        return REJECTED, "declaration_contact", {}
    if latest.temperature is None or float(latest.temperature) >= policy.max_temperature:
        return REJECTED, "declaration_temperature", {
            "temperature": latest.temperature, "limit": policy.max_temperature}
    return None


def sanitary_status(policy, evidence_list, declarations, at, tz):
    """The participant's sanitary status at the moment `at` (aware) under `policy` (None: no policy).

    `evidence_list` items have kind, taken_on, taken_at, review_status, reject_reason;
    `declarations` items have day (local date), at, no_symptoms, no_contact, temperature.
    Approved evidence counts; pending evidence only makes the state pending_review; rejected
    evidence only makes it rejected. With the documents in order, a missing, stale (an earlier
    day's) or failed declaration decides the state (missing or rejected) and its reason.
    """
    if policy is None or policy.mode == OFF:
        return SanitaryStatus(NOT_REQUIRED, reason="not_required")
    at = _aware(at)
    state, until, reason, params = _evidence_part(policy, evidence_list, at, tz)
    documents_ok = state in (VALID, EXPIRING_SOON)
    problem = _declaration_problem(policy, declarations, at, tz) if policy.declaration_required else None
    needs = (() if documents_ok else (NEEDS_EVIDENCE,)) + (
        (NEEDS_DECLARATION,) if problem is not None else ())
    if documents_ok and problem is not None:
        problem_state, problem_reason, problem_params = problem
        return SanitaryStatus(problem_state, until, problem_reason, problem_params, needs)
    return SanitaryStatus(state, until, reason, params, needs)


def door_decision(status, mode):
    """What the entrance does with this status under the enforcement mode: "allow", "warn" or "block"."""
    if mode == OFF or status.allows_entry:
        return ALLOW
    return BLOCK if mode == BLOCK else WARN
