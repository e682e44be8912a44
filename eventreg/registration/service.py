"""Sign-up, corrections and cancellation: the rules, with no request objects.

Capacity is enforced with conditional UPDATEs on the event's and the category's
confirmed_count ("add one where count < capacity"): the database decides, so
concurrent sign-ups can never overbook, on SQLite (one writer at a time, taken
with BEGIN IMMEDIATE) and on PostgreSQL (the row lock and re-check of UPDATE).
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, not_, or_, update
from sqlalchemy.exc import IntegrityError

from ..db import utcnow, write_transaction
from ..events.models import Category, Event
from ..events.service import event_options
from ..extensions import db
from ..text import clean_line, collation_key, search_key
from .models import CANCELLED, CONFIRMED, WAITLISTED, Registration, SearchTerm, new_reference, new_secret
from .validators import ValidationFailure, age_on, iin_warnings, normalize_phone, parse_iin

CONSENT_VERSION = "2021-1"


class RegistrationError(Exception):
    """A sign-up or change that the rules refuse; code says why, field where (if anywhere)."""

    def __init__(self, code, field=None):
        super().__init__(code)
        self.code = code
        self.field = field


@dataclass
class ParticipantData:
    last_name: str
    first_name: str
    birth_date: date
    phone: str  # E.164
    email: str
    region_id: int
    category_id: int
    patronymic: str = ""
    latin_name: str = ""
    iin: str | None = None
    sex: str | None = None
    organization: str = ""
    language: str = "kk"
    guardian_name: str = ""
    guardian_consent: bool = False
    consent: bool = False


def is_minor(event, birth_date):
    return birth_date is not None and age_on(birth_date, event.starts_on) < event.minor_age


def check_registration_open(event, at=None):
    state = event.registration_state(at)
    if state != "open":
        raise RegistrationError("registration_" + state)


def _parsed_iin(iin):
    try:
        return parse_iin(iin) if iin else None
    except ValidationFailure as failure:
        raise RegistrationError(failure.code, "iin") from None


def _normalized(data):
    data.email = (data.email or "").strip().lower() or None
    data.iin = "".join((data.iin or "").split()) or None
    for name in ("last_name", "first_name", "patronymic", "latin_name", "organization", "guardian_name"):
        setattr(data, name, clean_line(getattr(data, name) or ""))
    return data


def _check_rules(event, data, *, public):
    """Rules that do not depend on other registrations."""
    if not data.consent:
        raise RegistrationError("consent_required", "consent")
    if is_minor(event, data.birth_date) and not (data.guardian_consent and data.guardian_name):
        raise RegistrationError("guardian_consent_required", "guardian_consent")
    options = event_options(event)
    category = options.category(data.category_id)
    if category is None or (public and not category.self_registration):
        raise RegistrationError("category_invalid", "category")
    if options.region(data.region_id) is None:
        raise RegistrationError("region_invalid", "region")


def find_duplicate(event_id, iin, email, exclude_id=None):
    """The field ('iin' or 'email') on which another registration of this event matches, or None."""
    conditions = []
    if iin:
        conditions.append(Registration.iin == iin)
    if email:
        conditions.append(Registration.email == email)
    if not conditions:
        return None
    query = db.select(Registration.iin, Registration.email).where(
        Registration.event_id == event_id, or_(*conditions)
    )
    if exclude_id is not None:
        query = query.where(Registration.id != exclude_id)
    row = db.session.execute(query.limit(1)).first()
    if row is None:
        return None
    return "iin" if iin and row.iin == iin else "email"


def _counter_statements(model):
    """Prepared once: "take a place if one is free" and "give a place back" for a counter row."""
    row_id = bindparam("row_id")
    take = (update(model)
            .where(model.id == row_id, not_(model.is_full))
            .values(confirmed_count=model.confirmed_count + 1))
    give_back = (update(model)
                 .where(model.id == row_id, model.confirmed_count > 0)
                 .values(confirmed_count=model.confirmed_count - 1))
    return take, give_back


_COUNTERS = {Event: _counter_statements(Event), Category: _counter_statements(Category)}


def _add_one(model, row_id):
    """Take one place of a capacity-limited row; False when it is full."""
    return db.session.connection().execute(_COUNTERS[model][0], {"row_id": row_id}).rowcount == 1


def _remove_one(model, row_id):
    db.session.connection().execute(_COUNTERS[model][1], {"row_id": row_id})


# Every writer updates the event's counter before any category's (PostgreSQL holds each row locked
# to the commit): a cancellation that promotes someone of another category and a sign-up in that
# category would otherwise each hold the row the other waits for, and one would be aborted.
def take_place(event_id, category_id):
    """Take a place in the event and in the category, or neither."""
    if not _add_one(Event, event_id):
        return False
    if not _add_one(Category, category_id):
        _remove_one(Event, event_id)
        return False
    return True


def release_place(event_id, category_id):
    _remove_one(Event, event_id)
    _remove_one(Category, category_id)


def build_registration(event, data, *, public=True, at=None):
    """Check a person's data against every sign-up rule that does not depend on other registrations
    and return the (unsaved) Registration it makes; raises RegistrationError like register().

    register() and the organizers' import both build rows here, so an imported person passes the
    same rules as one who signed up on the form.
    """
    at = at or utcnow()
    data = _normalized(data)
    iin_info = _parsed_iin(data.iin)
    _check_rules(event, data, public=public)
    event_id = event.id
    registration = Registration(
        event_id=event_id, reference=new_reference(), secret=new_secret(),
        last_name=data.last_name, first_name=data.first_name, patronymic=data.patronymic,
        latin_name=data.latin_name, iin=data.iin, birth_date=data.birth_date,
        sex=iin_info.sex if iin_info else data.sex,
        iin_warnings=",".join(iin_warnings(iin_info, data.birth_date, data.sex)),
        phone=data.phone, email=data.email, region_id=data.region_id,
        organization=data.organization, category_id=data.category_id, language=data.language,
        consent_at=at, consent_version=f"{CONSENT_VERSION}/{data.language}",
        guardian_name=data.guardian_name if is_minor(event, data.birth_date) else "",
        guardian_consent_at=at if is_minor(event, data.birth_date) else None,
        created_at=at,
    )
    registration.refresh_search_key()
    return registration


def register(event, data, *, accept_waitlist=True, public=True, at=None, along=None):
    """Sign a person up for an event: confirmed if a place is free, else waitlisted.

    Raises RegistrationError for a closed registration, a refused rule, a duplicate
    (same IIN or email in this event), or a full event when the waitlist is declined.
    `along(registration)` may return rows to commit in the same transaction (the
    confirmation email's outbox row): one commit instead of two per sign-up.
    """
    at = at or utcnow()
    if public:
        check_registration_open(event, at)
    registration = build_registration(event, data, public=public, at=at)
    event_id = event.id
    # The unique constraints on (event, IIN) and (event, email) decide duplicates, also between
    # concurrent sign-ups; the lookup runs only to say which field clashed.
    # The insert goes first: a duplicate fails before any counter is touched, and the rows
    # every sign-up competes for (the event's and the category's counters) stay locked on
    # PostgreSQL only from their update to the commit.
    try:
        with write_transaction():
            registration.status = CONFIRMED
            db.session.add(registration)
            db.session.flush()
            if not take_place(event_id, data.category_id):
                if not accept_waitlist:
                    raise RegistrationError("full")
                registration.status = WAITLISTED
            if along is not None:
                db.session.add_all(along(registration))
    except IntegrityError:
        duplicate = find_duplicate(event_id, data.iin, data.email)
        if duplicate is None:
            raise  # not a duplicate person: a real fault, not the user's
        raise RegistrationError("duplicate_" + duplicate, duplicate) from None
    return registration


def get_by_secret(event, secret):
    """The registration whose private-page secret this is, scoped to the event, or None."""
    if not secret or len(secret) > 64:
        return None
    return db.session.execute(
        db.select(Registration).filter_by(event_id=event.id, secret=secret)
    ).scalar_one_or_none()


def update_details(registration, data):
    """Correct a participant's details (not the category: that decides capacity)."""
    event = registration.event
    data = _normalized(data)
    data.category_id = registration.category_id
    iin_info = _parsed_iin(data.iin)
    _check_rules(event, data, public=False)
    registration_id = registration.id
    with write_transaction():
        registration = db.session.get(Registration, registration_id)
        if registration.status == CANCELLED:
            raise RegistrationError("cancelled")
        duplicate = find_duplicate(registration.event_id, data.iin, data.email, exclude_id=registration_id)
        if duplicate:
            raise RegistrationError("duplicate_" + duplicate, duplicate)
        for name in ("last_name", "first_name", "patronymic", "latin_name", "iin", "birth_date",
                     "phone", "email", "region_id", "organization", "language"):
            setattr(registration, name, getattr(data, name))
        registration.sex = iin_info.sex if iin_info else data.sex
        registration.iin_warnings = ",".join(iin_warnings(iin_info, data.birth_date, data.sex))
        if is_minor(event, data.birth_date):
            registration.guardian_name = data.guardian_name
            registration.guardian_consent_at = registration.guardian_consent_at or utcnow()
        registration.refresh_search_key()
    return registration


def cancel(registration, at=None):
    """Cancel a registration; a freed place goes to the first person on the waitlist.

    Returns the promoted registration, if any. Cancelling twice changes nothing.
    """
    at = at or utcnow()
    registration_id, event_id, category_id = registration.id, registration.event_id, registration.category_id
    with write_transaction():
        was_confirmed = _set_status(registration_id, CONFIRMED, CANCELLED, cancelled_at=at)
        if not was_confirmed:
            _set_status(registration_id, WAITLISTED, CANCELLED, cancelled_at=at)
            return None
        release_place(event_id, category_id)
        promoted = promote_waitlisted(event_id)
    return promoted[0] if promoted else None


def _set_status(registration_id, old, new, **values):
    result = db.session.connection().execute(
        update(Registration)
        .where(Registration.id == registration_id, Registration.status == old)
        .values(status=new, updated_at=utcnow(), **values)
    )
    return result.rowcount == 1


def promote_waitlisted(event_id):
    """Confirm waitlisted people, first come first served, while places are free.

    Someone whose category is full stays on the list and the next person is tried.
    Runs inside the caller's write transaction.
    """
    promoted = []
    candidates = db.session.execute(
        db.select(Registration.id, Registration.category_id)
        .where(Registration.event_id == event_id, Registration.status == WAITLISTED)
        .order_by(Registration.created_at, Registration.id)
    ).all()
    for candidate in candidates:
        if not take_place(event_id, candidate.category_id):
            if _event_full(event_id):
                break
            continue
        if _set_status(candidate.id, WAITLISTED, CONFIRMED):
            promoted.append(db.session.get(Registration, candidate.id))
        else:
            release_place(event_id, candidate.category_id)  # cancelled meanwhile
    return promoted


def _event_full(event_id):
    capacity, count = db.session.execute(
        db.select(Event.capacity, Event.confirmed_count).where(Event.id == event_id)
    ).one()
    return capacity is not None and count >= capacity


def search(event, query, limit=20):
    """Registrations of an event matching what staff typed: the start of a name's words (any
    case, Kazakh and Russian letters folded alike, all words must match), the reference, a phone
    number or a full IIN. Each kind of match is one indexed lookup."""
    text = (query or "").strip()
    if len(text) < 2:
        return []
    found = {}
    for match in (_by_name, _by_reference, _by_phone, _by_iin):
        for registration in match(event.id, text, limit):
            found.setdefault(registration.id, registration)
    return sorted(found.values(), key=lambda r: collation_key(r.search_key))[:limit]


def _by_name(event_id, text, limit):
    words = sorted(search_key(text).split(), key=len, reverse=True)
    if not words:
        return []
    first = words[0]  # the longest word narrows the index range most
    matching_ids = db.select(SearchTerm.registration_id).where(
        SearchTerm.event_id == event_id, SearchTerm.term >= first, SearchTerm.term < first + "\U0010ffff")
    query = db.select(Registration).where(Registration.id.in_(matching_ids))
    for word in words[1:]:
        query = query.where(Registration.search_key.contains(word, autoescape=True))
    return db.session.execute(query.limit(limit)).scalars().all()


def _by_reference(event_id, text, limit):
    compact = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(compact) != 8:
        return []
    return db.session.execute(
        db.select(Registration).filter_by(event_id=event_id, reference=compact)).scalars().all()


def _by_phone(event_id, text, limit):
    if sum(ch.isdigit() for ch in text) < 10:
        return []
    try:
        phone = normalize_phone(text)
    except ValidationFailure:
        return []
    return db.session.execute(
        db.select(Registration).filter_by(event_id=event_id, phone=phone).limit(limit)).scalars().all()


def _by_iin(event_id, text, limit):
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) != 12 or len(text.replace(" ", "")) != 12:
        return []
    return db.session.execute(
        db.select(Registration).filter_by(event_id=event_id, iin=digits)).scalars().all()
