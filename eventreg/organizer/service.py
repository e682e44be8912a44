"""What organizers see and change: the dashboard's figures, the filtered participant list, erasure.

The list, the exports and the dashboard share one definition of each filter (`conditions`), so
an export holds exactly the people the list shows.
"""
import shutil
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask import current_app
from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import joinedload

from ..audit import record
from ..checkin.models import IN, Presence, Scan
from ..db import as_utc, utcnow, write_transaction
from ..events.models import Event
from ..events.service import event_options
from ..extensions import db
from ..notifications.models import OutboxMessage
from ..registration import service as registrations
from ..registration.models import CANCELLED, CONFIRMED, STATUSES, WAITLISTED, Registration, new_secret
from . import sanitary

PER_PAGE = 50
# Name search answers at most this many people: enough for any name typed, and the id list
# stays a small IN (...) that both databases take as a bind list.
SEARCH_LIMIT = 1000
YES, NO = "yes", "no"
BUCKET = timedelta(minutes=15)
ARRIVAL_BUCKETS_SHOWN = 96  # the last 24 hours of arrivals, in 15-minute bars
DAYS_SHOWN = 120
# What an erased person's surname becomes: the row stays (counts, check-in history) without a name.
ERASED_NAME = "—"


@dataclass(frozen=True)
class Filters:
    """The organizer's choice of people, as it comes in query parameters (list and exports alike).

    region and category are codes; status one of STATUSES; checked_in "yes" (arrived: has an entry
    scan that was not undone) or "no"; sanitary a status of the attestations feature.
    """

    q: str = ""
    region: str = ""
    category: str = ""
    status: str = ""
    checked_in: str = ""
    sanitary: str = ""

    @classmethod
    def from_args(cls, args, event):
        """Filters from request arguments; a value that is not one of the choices counts as no filter."""
        options = event_options(event)
        values = {f.name: (args.get(f.name) or "").strip() for f in fields(cls)}
        if values["region"] not in {r.code for r in options.regions}:
            values["region"] = ""
        if values["category"] not in {c.code for c in options.categories}:
            values["category"] = ""
        if values["status"] not in STATUSES:
            values["status"] = ""
        if values["checked_in"] not in (YES, NO):
            values["checked_in"] = ""
        if values["sanitary"] not in sanitary.STATUSES:
            values["sanitary"] = ""
        values["q"] = values["q"][:100]
        return cls(**values)

    def as_args(self):
        """The filters as query parameters, without the empty ones (for links and export URLs)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def __bool__(self):
        return bool(self.as_args())


def _entry_scans(event_id):
    """Entry scans that stand (not refused, not undone): what "arrived" means."""
    return (Scan.event_id == event_id, Scan.result == "ok", Scan.direction == IN, Scan.undone_at.is_(None))


def first_arrivals(event_id):
    """A subquery: each arrived registration's id and the moment of its first entry scan."""
    return (select(Scan.registration_id.label("registration_id"),
                   func.min(Scan.scanned_at).label("first_arrival"))
            .where(*_entry_scans(event_id)).group_by(Scan.registration_id).subquery())


def conditions(event, filters):
    """WHERE clauses on Registration for these filters (name search included)."""
    options = event_options(event)
    clauses = [Registration.event_id == event.id]
    if filters.q:
        ids = [r.id for r in registrations.search(event, filters.q, limit=SEARCH_LIMIT)]
        clauses.append(Registration.id.in_(ids))
    if filters.region:
        clauses.append(Registration.region_id == next(r.id for r in options.regions if r.code == filters.region))
    if filters.category:
        clauses.append(
            Registration.category_id == next(c.id for c in options.categories if c.code == filters.category))
    if filters.status:
        clauses.append(Registration.status == filters.status)
    if filters.checked_in:
        arrived = select(Scan.registration_id).where(*_entry_scans(event.id))
        clauses.append(Registration.id.in_(arrived) if filters.checked_in == YES
                       else Registration.id.not_in(arrived))
    if filters.sanitary:
        clauses.append(sanitary.condition(event, filters.sanitary))
    return clauses


@dataclass
class ListedParticipant:
    registration: Registration
    first_arrival: datetime | None  # in the event's timezone
    sanitary_status: str | None


def participants_page(event, filters, page):
    """One page of the filtered participants, by name, with their first arrival and sanitary status."""
    query = (select(Registration)
             .options(joinedload(Registration.region), joinedload(Registration.category))
             .where(*conditions(event, filters))
             .order_by(Registration.sort_key, Registration.id))
    pagination = db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)
    arrivals = _first_arrival_of([r.id for r in pagination.items], event.id)
    status_of = sanitary.status_function()
    at = utcnow()
    pagination.participants = [
        ListedParticipant(r, arrivals.get(r.id), status_of(r, at) if status_of else None)
        for r in pagination.items]
    return pagination


def _first_arrival_of(ids, event_id):
    if not ids:
        return {}
    rows = db.session.execute(
        select(Scan.registration_id, func.min(Scan.scanned_at))
        .where(*_entry_scans(event_id), Scan.registration_id.in_(ids)).group_by(Scan.registration_id)).all()
    tz = event_tz(event_id)
    return {registration_id: as_utc(at).astimezone(tz) for registration_id, at in rows}


def event_tz(event_id):
    from ..events.models import Event

    return db.session.get(Event, event_id).tz


def get_participant(event, reference):
    """The registration of this event with this reference (with or without the dash), or None."""
    reference = "".join(ch for ch in (reference or "").upper() if ch.isalnum())
    if len(reference) != 8:
        return None
    return db.session.execute(
        select(Registration).filter_by(event_id=event.id, reference=reference)).scalar_one_or_none()


def participant_history(registration):
    """First arrival and where the person is now, for the participant page."""
    presence = db.session.get(Presence, registration.id)
    options = event_options(registration.event)
    zone = next((c for c in options.checkpoints if presence and c.id == presence.checkpoint_id), None)
    return {"first_arrival": _first_arrival_of([registration.id], registration.event_id).get(registration.id),
            "inside": zone}


def is_erased(registration):
    return (registration.last_name == ERASED_NAME and registration.email is None
            and registration.phone is None and registration.iin is None)


# --- changes made by organizers; each one leaves an audit entry naming who made it ---

def edit(registration, data, user):
    """Correct a participant's details with the sign-up rules (registration.service.update_details)."""
    tracked = ("last_name", "first_name", "patronymic", "latin_name", "iin", "birth_date", "phone", "email",
               "region_id", "organization", "language", "guardian_name")
    before = {name: getattr(registration, name) for name in tracked}
    registration = registrations.update_details(registration, data)
    changed = sorted(name for name in tracked if getattr(registration, name) != before[name])
    _audit(registration, user, "participant_edited", fields=changed)  # which fields, never their values
    return registration


def cancel(registration, user):
    """Cancel a registration (the waitlist moves up); returns the promoted registration, if any."""
    promoted = registrations.cancel(registration)
    _audit(registration, user, "registration_cancelled",
           promoted=promoted.reference if promoted is not None else None)
    return promoted


def reissue_badge(registration, user):
    from ..badges.service import reissue

    reissue(registration)
    _audit(registration, user, "badge_reissued", generation=registration.badge_generation)


def resend_email(registration, user):
    """Queue the confirmation again; raises notifications.service.ResendRefused like the participant's button."""
    from ..notifications.service import resend_confirmation

    resend_confirmation(registration)
    _audit(registration, user, "confirmation_resent")


def _audit(registration, user, action, **details):
    # The change itself is committed by the service that made it (registration, badges,
    # notifications); the entry follows at once in a transaction of its own.
    with write_transaction():
        record(action, event_id=registration.event_id, user_id=user.id, registration_id=registration.id,
               reference=registration.reference, **details)


def erase_personal_data(registration, user, at=None):
    """Erase a person's personal data on request (Law No. 94-V): the row stays, anonymized.
    `user` is the organizer who did it, or None for the retention command.

    Names, IIN, birth date, sex, phone, email, organization and the guardian's name go; so do the
    search words, the emails in the outbox, the names in stored scan answers, the cached badge
    PDFs and the uploaded sanitary documents. The status and category stay, so every count stays
    right, and the check-in history stays without a name. The private link and every printed
    badge stop working. The audit entry records who erased whom (by reference only).
    """
    at = at or utcnow()
    registration_id = registration.id
    with write_transaction():
        row = db.session.get(Registration, registration_id, with_for_update=True)
        row.last_name, row.first_name, row.patronymic, row.latin_name = ERASED_NAME, "", "", ""
        row.iin = row.birth_date = row.sex = row.phone = row.email = None
        row.iin_warnings = row.organization = row.guardian_name = ""
        row.secret = new_secret()
        row.badge_generation += 1
        row.search_key = row.sort_key = ""
        row.search_terms = []
        db.session.execute(db.delete(OutboxMessage).where(OutboxMessage.registration_id == registration_id))
        for scan in db.session.execute(select(Scan).where(Scan.registration_id == registration_id)).scalars():
            # The answer the device got is kept for a resent scan, minus the person it showed.
            scan.response = {key: value for key, value in (scan.response or {}).items() if key != "participant"}
        sanitary.erase(row)
        record("personal_data_erased", event_id=row.event_id, user_id=user.id if user else None,
               registration_id=registration_id,
               reference=row.reference, at=at.isoformat())
    # Badge PDFs are cached per registration (badges/pdf.py) and carry the name.
    shutil.rmtree(Path(current_app.instance_path) / "badges" / str(row.event_id) / str(registration_id),
                  ignore_errors=True)
    return row


# --- the dashboard ---

def _epoch_bucket(column, seconds):
    """The number of the `seconds`-long slot since 1970 that a UTC timestamp column falls in."""
    if db.engine.dialect.name == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC.
        epoch = func.cast(func.strftime(literal_column("'%s'"), column), db.Integer)
    else:
        epoch = func.extract("epoch", column)
    return func.floor(epoch / seconds)


def _per_bucket(column, where, seconds):
    bucket = _epoch_bucket(column, seconds).label("bucket")
    rows = db.session.execute(select(bucket, func.count()).where(*where).group_by(bucket)).all()
    return {int(b): n for b, n in rows if b is not None}


def dashboard(event, language, at=None):
    """Every figure of the organizer dashboard as plain JSON-ready values.

    Counts by status, by region and by category; who is inside each checkpoint now, by region
    and by category; first arrivals per 15 minutes; registrations per day in the event's timezone.
    """
    at = at or utcnow()
    options = event_options(event)
    status_rows = db.session.execute(
        select(Registration.region_id, Registration.category_id, Registration.status, func.count())
        .where(Registration.event_id == event.id)
        .group_by(Registration.region_id, Registration.category_id, Registration.status)).all()
    arrivals = first_arrivals(event.id)
    arrived_rows = db.session.execute(
        select(Registration.region_id, Registration.category_id, func.count())
        .join(arrivals, arrivals.c.registration_id == Registration.id)
        .group_by(Registration.region_id, Registration.category_id)).all()
    inside_rows = db.session.execute(
        select(Registration.region_id, Registration.category_id, Presence.checkpoint_id, func.count())
        .join(Presence, Presence.registration_id == Registration.id)
        .where(Presence.event_id == event.id, Presence.checkpoint_id.is_not(None))
        .group_by(Registration.region_id, Registration.category_id, Presence.checkpoint_id)).all()

    def empty():
        return {CONFIRMED: 0, WAITLISTED: 0, CANCELLED: 0, "arrived": 0,
                "inside": {c.code: 0 for c in options.checkpoints}}

    totals = empty()
    by_region = {r.id: empty() for r in options.regions}
    by_region[None] = empty()
    by_category = {c.id: empty() for c in options.categories}
    zone_code = {c.id: c.code for c in options.checkpoints}

    def add(region_id, category_id, key, count, zone=None):
        for figures in (totals, by_region.setdefault(region_id, empty()), by_category.setdefault(category_id, empty())):
            if zone is None:
                figures[key] += count
            else:
                figures["inside"][zone] += count

    for region_id, category_id, status, count in status_rows:
        add(region_id, category_id, status, count)
    for region_id, category_id, count in arrived_rows:
        add(region_id, category_id, "arrived", count)
    for region_id, category_id, checkpoint_id, count in inside_rows:
        if checkpoint_id in zone_code:
            add(region_id, category_id, "inside", count, zone=zone_code[checkpoint_id])

    def rows(choices, figures):
        return [{"code": c.code, "name": c.name_in(language), **figures[c.id]} for c in choices]

    region_rows = rows(options.regions, by_region)
    if any(by_region[None][s] for s in STATUSES):
        region_rows.append({"code": "", "name": "—", **by_region[None]})
    return {
        "counts": {"registered": totals[CONFIRMED] + totals[WAITLISTED], CONFIRMED: totals[CONFIRMED],
                   WAITLISTED: totals[WAITLISTED], CANCELLED: totals[CANCELLED], "arrived": totals["arrived"],
                   "inside": sum(totals["inside"].values())},
        "capacity": event.capacity,
        "checkpoints": [{"code": c.code, "name": c.name_in(language), "capacity": c.capacity,
                         "inside": totals["inside"][c.code]} for c in options.checkpoints],
        "regions": region_rows,
        "categories": rows(options.categories, by_category),
        "sanitary": sanitary.counts(event, at),
        "arrivals": _arrivals_chart(event, arrivals),
        "registrations": _registrations_chart(event),
        "updated_at": at.astimezone(event.tz).strftime("%H:%M:%S"),
    }


def _arrivals_chart(event, arrivals):
    seconds = int(BUCKET.total_seconds())
    counts = _per_bucket(arrivals.c.first_arrival, (), seconds)
    if not counts:
        return {"labels": [], "values": []}
    last = max(counts)
    first = max(min(counts), last - ARRIVAL_BUCKETS_SHOWN + 1)
    labels = [datetime.fromtimestamp(b * seconds, timezone.utc).astimezone(event.tz).strftime("%H:%M")
              for b in range(first, last + 1)]
    return {"labels": labels, "values": [counts.get(b, 0) for b in range(first, last + 1)]}


def _registrations_chart(event):
    # Counted per 15 minutes in the database (portable SQL), then folded into the event's local
    # days here, where the timezone rules are (any offset that is a multiple of 15 minutes).
    seconds = int(BUCKET.total_seconds())
    counts = _per_bucket(Registration.created_at, (Registration.event_id == event.id,), seconds)
    per_day = {}
    for bucket, count in counts.items():
        day = datetime.fromtimestamp(bucket * seconds, timezone.utc).astimezone(event.tz).date()
        per_day[day] = per_day.get(day, 0) + count
    if not per_day:
        return {"labels": [], "values": []}
    last = max(per_day)
    day = max(min(per_day), last - timedelta(days=DAYS_SHOWN - 1))
    labels, values = [], []
    while day <= last:
        labels.append(day.strftime("%d.%m"))
        values.append(per_day.get(day, 0))
        day += timedelta(days=1)
    return {"labels": labels, "values": values}


def erase_after_retention(today, days, slug=None):
    """Erase the personal data of every participant of the events that ended more than `days` ago.

    Returns [(event, erased count)]. Events still inside their retention period are left alone.
    """
    query = db.select(Event).where(Event.ends_on < today - timedelta(days=days))
    if slug:
        query = query.where(Event.slug == slug)
    done = []
    for event in db.session.execute(query.order_by(Event.ends_on)).scalars().all():
        people = db.session.execute(
            db.select(Registration).where(Registration.event_id == event.id)).scalars().all()
        erased = 0
        for registration in people:
            if not is_erased(registration):
                erase_personal_data(registration, None)
                erased += 1
        done.append((event, erased))
    return done
