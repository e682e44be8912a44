"""Importing delegation lists: the spreadsheets regional youth resource centres send (CSV or XLSX).

Every row passes the sign-up rules (registration.validators for each field, then
registration.service.build_registration for the rest); the organizer sees a preview with every
error by row and column, and nothing is written until they confirm. Then all new people go in
in one transaction, or none do. A person already registered (same IIN, else same email) is left
as they are, so importing the same file twice adds nobody the second time.
"""
import codecs
import csv
import io
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..audit import record
from ..db import utcnow, write_transaction
from ..events.service import event_options
from ..extensions import db
from ..registration.messages import message_for
from ..registration.models import CONFIRMED, WAITLISTED, Registration
from ..registration.service import ParticipantData, RegistrationError, build_registration, take_place
from ..registration.validators import ValidationFailure, normalize_phone, parse_iin
from .exports import COLUMNS, FORMULA_START

IMPORT_KEYS = ("last_name", "first_name", "patronymic", "latin_name", "iin", "birth_date", "sex", "phone", "email",
               "region", "category", "organization", "language", "guardian_name")
REQUIRED = ("last_name", "first_name", "birth_date", "phone", "email", "region", "category")
MAX_LENGTH = {"last_name": 100, "first_name": 100, "patronymic": 100, "latin_name": 200, "organization": 300,
              "guardian_name": 200}
MAX_ROWS = 5000
PENDING_TTL = 24 * 3600  # an upload never confirmed is deleted after a day: it holds personal data
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")

_SEX = {"f": "F", "m": "M", "ж": "F", "м": "M", "ә": "F", "е": "M", "female": "F", "male": "M",
        "женский": "F", "мужской": "M", "әйел": "F", "ер": "M"}
_LANGUAGES = {"kk": "kk", "ru": "ru", "en": "en", "қазақша": "kk", "русский": "ru", "english": "en", "": "kk"}
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d.%m.%y")

ERRORS = {
    "required": _l("This field is required."),
    "too_long": _l("Too long: at most %(max)s characters."),
    "date": _l("Write the date as 2000-03-15 or 15.03.2000."),
    "sex": _l("Write F or M."),
    "email": _l("Enter a valid email address."),
    "language": _l("Write kk, ru or en."),
    "lost_letter": _l("A letter was lost here (saved as ?): save the file as “CSV UTF-8” and upload it again."),
    "same_iin": _l("The same IIN as in row %(row)s."),
    "same_email": _l("The same email as in row %(row)s."),
    "email_taken": _l("This email belongs to participant %(reference)s, who has another IIN."),
}
REFUSALS = {
    "empty": _l("The file has no rows to import."),
    "format": _l("This is neither a CSV nor an XLSX file."),
    "encoding": _l("The file's text encoding is not recognised: save it as “CSV UTF-8” and upload it again."),
    "missing_columns": _l("Columns missing from the first row: %(columns)s. Download the template to see them."),
    "too_many_rows": _l("At most %(max)s rows can be imported at once."),
    "expired": _l("This upload has expired: upload the file again."),
    "errors": _l("The file has errors: nothing was imported."),
    "conflict": _l("Someone in the file registered meanwhile: nothing was imported. Upload the file again."),
}


class ImportRefused(Exception):
    def __init__(self, code, **params):
        super().__init__(code)
        self.code, self.params = code, params

    @property
    def message(self):
        text = REFUSALS[self.code]
        return text % self.params if self.params else str(text)


@dataclass
class Row:
    line: int  # the row's number as the spreadsheet shows it (the header is row 1)
    values: dict  # the text of each column, as in the file
    errors: dict = field(default_factory=dict)  # column key: message
    registration: Registration | None = None  # a new person, built and not saved
    existing: str | None = None  # the reference of the registration this row matches


@dataclass
class Preview:
    filename: str
    columns: list  # keys of the recognised columns, in the file's order
    ignored: list  # headers not recognised (left out)
    rows: list

    @property
    def new(self):
        return [r for r in self.rows if r.registration is not None and not r.errors]

    @property
    def matched(self):
        return [r for r in self.rows if r.existing and not r.errors]

    @property
    def with_errors(self):
        return [r for r in self.rows if r.errors]

    @property
    def can_import(self):
        return not self.with_errors and bool(self.new)


# --- reading the file ---

def decode(data):
    """The text of a CSV file: UTF-8 with or without a BOM, UTF-16 with a BOM, or Windows-1251
    (what Excel's plain "CSV" gives on a Russian Windows). Returns (text, encoding)."""
    if data.startswith(codecs.BOM_UTF8):
        data, encodings = data[len(codecs.BOM_UTF8):], ("utf-8",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "cp1251")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "cp1251" and not _reads_as_cyrillic(text):
            break
        return text, encoding
    raise ImportRefused("encoding")


def _reads_as_cyrillic(text):
    # Windows-1251 decodes nearly any bytes; the file is taken for it only when what is not
    # ASCII reads as Cyrillic letters and their punctuation (a Latin-1 or KOI8 file does not).
    other = [ch for ch in text if not ch.isascii()]
    cyrillic = sum(1 for ch in other if "\u0400" <= ch <= "\u04ff" or ch in "«»–—№“”„")
    return bool(other) and cyrillic / len(other) > 0.9


def read_table(data, filename=""):
    """(rows of cell values, encoding) of an uploaded file; the first row is the header."""
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data), "xlsx"
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if filename.lower().endswith((".xlsx", ".xls")) or (b"\0" in data[:1000] and not utf16):
        raise ImportRefused("format")  # an old .xls, or a binary file
    text, encoding = decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)), encoding


def _read_xlsx(data):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged or foreign zip: openpyxl raises many kinds
        raise ImportRefused("format") from None
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _folded(text):
    return " ".join(str(text).replace("*", " ").split()).casefold().lstrip("'")


def _header_keys():
    """Every name a column may have in the first row: its key, and its label in each language."""
    names = {}
    for key, column in COLUMNS.items():
        names[key] = key
        for language in current_app.config["LANGUAGES"]:
            with force_locale(language):
                names[_folded(str(column.label))] = key
    return names


def _cell_text(value, key):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and key == "iin":
        return f"{value:012d}"  # Excel keeps an IIN as a number and drops its leading zeros
    if isinstance(value, int) and key == "phone":
        return f"+{value}" if str(value).startswith("7") and len(str(value)) == 11 else str(value)
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
        text = text[1:]  # the apostrophe our export put before a formula-like cell
    return text


# --- checking every row ---

def preview(event, data, filename):
    """Read and check the whole file; nothing is written. Raises ImportRefused for a file that
    cannot be read at all; a row's errors are in the preview."""
    table, encoding = read_table(data, filename)
    table = [row for row in table if any(_cell_text(v, "") for v in row)]
    if len(table) < 2:
        raise ImportRefused("empty")
    if len(table) - 1 > MAX_ROWS:
        raise ImportRefused("too_many_rows", max=MAX_ROWS)
    names = _header_keys()
    positions, ignored = {}, []
    for index, header in enumerate(table[0]):
        key = names.get(_folded(header or ""))
        if key in IMPORT_KEYS and key not in positions:
            positions[key] = index
        elif header:
            ignored.append(str(header))
    missing = [str(COLUMNS[key].label) for key in REQUIRED if key not in positions]
    if missing:
        raise ImportRefused("missing_columns", columns=", ".join(missing))

    at = utcnow()
    rows = []
    for line, cells in enumerate(table[1:], start=2):
        values = {key: _cell_text(cells[i] if i < len(cells) else None, key) for key, i in positions.items()}
        rows.append(_check_row(event, line, values, encoding, at))
    _check_duplicates(event, rows)
    return Preview(filename=filename, columns=list(positions), ignored=ignored, rows=rows)


def _error(code, **params):
    text = ERRORS[code]
    return text % params if params else str(text)


def _check_row(event, line, values, encoding, at):
    row = Row(line=line, values=values)
    errors = row.errors
    for key in REQUIRED:
        if not values.get(key):
            errors[key] = _error("required")
    for key, limit in MAX_LENGTH.items():
        if len(values.get(key, "")) > limit:
            errors[key] = _error("too_long", max=limit)
    if encoding == "cp1251":
        for key in ("last_name", "first_name", "patronymic", "organization", "guardian_name"):
            if "?" in values.get(key, ""):
                errors[key] = _error("lost_letter")
    parsed = {}
    if values.get("iin"):
        try:
            parsed["iin"] = parse_iin(values["iin"]).iin
        except ValidationFailure as failure:
            errors["iin"] = message_for(failure.code)
    if values.get("birth_date"):
        parsed["birth_date"] = _date(values["birth_date"])
        if parsed["birth_date"] is None:
            errors["birth_date"] = _error("date")
    sex = values.get("sex", "")
    if sex and sex.casefold() not in _SEX:
        errors["sex"] = _error("sex")
    if values.get("phone"):
        try:
            parsed["phone"] = normalize_phone(values["phone"])
        except ValidationFailure as failure:
            errors["phone"] = message_for(failure.code)
    if values.get("email"):
        try:
            parsed["email"] = validate_email(values["email"], check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            errors["email"] = _error("email")
    options = event_options(event)
    region = _choice(options.regions, values.get("region"))
    if values.get("region") and region is None:
        errors["region"] = message_for("region_invalid")
    category = _choice(options.categories, values.get("category"))
    if values.get("category") and category is None:
        errors["category"] = message_for("category_invalid")
    language = _LANGUAGES.get(values.get("language", "").casefold())
    if language is None:
        errors["language"] = _error("language")
    if errors:
        return row
    guardian = values.get("guardian_name", "")
    data = ParticipantData(
        last_name=values["last_name"], first_name=values["first_name"], patronymic=values.get("patronymic", ""),
        latin_name=values.get("latin_name", ""), iin=parsed.get("iin"), birth_date=parsed["birth_date"],
        sex=_SEX.get(sex.casefold()), phone=parsed["phone"], email=parsed["email"], region_id=region.id,
        category_id=category.id, organization=values.get("organization", ""), language=language,
        # The organizer declared, when uploading, that the sending organization holds the
        # participants' (and, for minors, their guardians') consent.
        guardian_name=guardian, guardian_consent=bool(guardian), consent=True,
    )
    try:
        row.registration = build_registration(event, data, public=False, at=at)
    except RegistrationError as refusal:
        column = {"guardian_consent": "guardian_name", "consent": "last_name"}.get(refusal.field, refusal.field)
        errors[column or "last_name"] = message_for(refusal.code, age=event.minor_age)
    return row


def _date(text):
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _choice(choices, text):
    """A region or category named by its code or its name in any language."""
    wanted = _folded(text or "")
    if not wanted:
        return None
    for choice in choices:
        if wanted == choice.code.casefold() or wanted in {_folded(name) for name in choice.names.values()}:
            return choice
    return None


def _check_duplicates(event, rows):
    """Refuse the second of two rows for one person; match rows to people already registered
    (by IIN, else by email): those are left unchanged."""
    first_iin, first_email = {}, {}
    for row in rows:
        new = row.registration
        if new is None:
            continue
        if new.iin and new.iin in first_iin:
            row.errors["iin"] = _error("same_iin", row=first_iin[new.iin])
        elif new.email in first_email:
            row.errors["email"] = _error("same_email", row=first_email[new.email])
        if new.iin:
            first_iin.setdefault(new.iin, row.line)
        first_email.setdefault(new.email, row.line)

    candidates = [r.registration for r in rows if r.registration is not None and not r.errors]
    by_iin, by_email = _registered(event, {r.iin for r in candidates if r.iin}, {r.email for r in candidates})
    for row in rows:
        new = row.registration
        if new is None or row.errors:
            continue
        match = by_iin.get(new.iin) if new.iin else None
        by_mail = by_email.get(new.email)
        if match is None and by_mail is not None and by_mail.iin and new.iin and by_mail.iin != new.iin:
            row.errors["email"] = _error("email_taken", reference=by_mail.reference)
        elif match is not None and by_mail is not None and by_mail.id != match.id:
            row.errors["email"] = _error("email_taken", reference=by_mail.reference)
        elif match is not None or by_mail is not None:
            row.existing = (match or by_mail).reference
            row.registration = None


def _registered(event, iins, emails):
    by_iin, by_email = {}, {}
    iins, emails = sorted(iins), sorted(emails)
    for start in range(0, max(len(iins), len(emails)), 500):
        chunk_iins, chunk_emails = iins[start:start + 500], emails[start:start + 500]
        found = db.session.execute(
            select(Registration.id, Registration.reference, Registration.iin, Registration.email)
            .where(Registration.event_id == event.id,
                   or_(Registration.iin.in_(chunk_iins), Registration.email.in_(chunk_emails)))).all()
        for person in found:
            if person.iin:
                by_iin[person.iin] = person
            if person.email:
                by_email[person.email] = person
    return by_iin, by_email


# --- writing ---

def import_rows(event, checked, user):
    """Register every new person of a checked file in one transaction: all or none.

    Places are taken in the order of the file; whoever finds the event or their category full
    goes on the waitlist, as on the sign-up form. Returns (added, unchanged) counts.
    """
    if checked.with_errors:
        raise ImportRefused("errors")
    new = [row.registration for row in checked.new]
    try:
        with write_transaction():
            for registration in new:
                registration.status = CONFIRMED
                db.session.add(registration)
            db.session.flush()  # one multi-row INSERT
            for registration in new:
                if not take_place(event.id, registration.category_id):
                    registration.status = WAITLISTED
            record("participants_imported", event_id=event.id, user_id=user.id, filename=checked.filename,
                   added=len(new), unchanged=len(checked.matched))
    except IntegrityError:
        # Someone of the file signed up between the preview and now: the unique constraints
        # refused the row and everything was rolled back.
        raise ImportRefused("conflict") from None
    return len(new), len(checked.matched)


# --- the upload kept between the preview and the confirmation ---

def _pending_dir():
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def keep_upload(event, user, filename, data):
    """Keep the uploaded file until the organizer confirms; returns the token that names it."""
    folder = _pending_dir()
    for old in folder.glob("*.json"):
        if time.time() - old.stat().st_mtime > PENDING_TTL:
            old.unlink(missing_ok=True)
            old.with_suffix(".upload").unlink(missing_ok=True)
    token = secrets.token_urlsafe(16)
    (folder / f"{token}.upload").write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps(
        {"event_id": event.id, "user_id": user.id, "filename": filename}))
    return token


def kept_upload(event, user, token):
    """(filename, bytes) of an upload this user kept for this event, or raises ImportRefused."""
    if not _TOKEN.match(token or ""):
        raise ImportRefused("expired")
    folder = _pending_dir()
    try:
        meta = json.loads((folder / f"{token}.json").read_text())
        data = (folder / f"{token}.upload").read_bytes()
    except (OSError, ValueError):
        raise ImportRefused("expired") from None
    if meta.get("event_id") != event.id or meta.get("user_id") != user.id:
        raise ImportRefused("expired")
    return meta.get("filename", ""), data


def discard_upload(token):
    if _TOKEN.match(token or ""):
        folder = _pending_dir()
        (folder / f"{token}.json").unlink(missing_ok=True)
        (folder / f"{token}.upload").unlink(missing_ok=True)


def template_csv():
    """The import template: the columns of a delegation list, labelled in the organizer's language."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer, lineterminator="\r\n").writerow([str(COLUMNS[key].label) for key in IMPORT_KEYS])
    return buffer.getvalue().encode("utf-8")
