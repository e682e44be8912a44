"""Sanitary states, reasons, kinds and refusals in the user's language. One place for all of them."""
from babel.dates import format_datetime
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from . import status as s

STATES = {
    s.VALID: _l("Valid"),
    s.EXPIRING_SOON: _l("Expiring soon"),
    s.PENDING_REVIEW: _l("Waiting for review"),
    s.MISSING: _l("Missing"),
    s.EXPIRED: _l("Expired"),
    s.REJECTED: _l("Not accepted"),
    s.NOT_REQUIRED: _l("Not required"),
}

KINDS = {
    s.VACCINATION_FULL: _l("Vaccination: full course"),
    s.VACCINATION_FIRST_DOSE: _l("Vaccination: first dose"),
    s.PCR_NEGATIVE: _l("Negative PCR test"),
    s.RECOVERY: _l("Recovery certificate"),
    s.MEDICAL_EXEMPTION: _l("Medical exemption"),
}

MODES = {
    s.BLOCK: _l("Block: no entry without a valid status (an organizer may override with a reason)"),
    s.WARN: _l("Warn: entry allowed, shown in amber"),
    s.OFF: _l("Off: nothing is checked"),
}

REVIEW = {
    s.PENDING: _l("Waiting for review"),
    s.APPROVED: _l("Accepted"),
    s.REJECTED: _l("Not accepted"),
}

REASONS = {
    "not_required": _l("No sanitary documents are required for this event."),
    "valid_until": _l("Your documents are valid until %(until)s."),
    "valid_permanent": _l("Your documents are valid with no end date."),
    "expiring_soon": _l("Your documents are valid only until %(until)s: add a newer one."),
    "evidence_missing": _l("Add a document: vaccination, a negative PCR test, recovery or a medical exemption."),
    "evidence_pending": _l("Your document is waiting for an organizer's review."),
    "evidence_rejected": _l("Your document was not accepted: %(reason)s"),
    "evidence_expired": _l("Your document expired on %(until)s: add a newer one."),
    "declaration_missing": _l("Fill in today's health declaration."),
    "declaration_stale": _l("Your health declaration is from an earlier day: fill in today's."),
    "declaration_symptoms": _l("Today's health declaration reports symptoms: entry needs an organizer's decision."),
    "declaration_contact": _l("Today's health declaration reports a contact with a confirmed case."),
    "declaration_temperature": _l("The temperature in today's declaration is not under %(limit)s °C."),
}

ERRORS = {
    "file_missing": _l("Choose a file to upload."),
    "file_empty": _l("The file is empty."),
    "file_too_large": _l("The file is larger than %(limit)s MB."),
    "file_type": _l("Upload a PDF, JPEG or PNG file (a scan or a photo of the document)."),
    "file_name": _l("The file name is not acceptable: rename the file and try again."),
    "kind_not_accepted": _l("This event does not accept this kind of document."),
    "date_in_future": _l("The date cannot be in the future."),
    "time_required": _l("Enter the time the sample was taken."),
    "cancelled": _l("This registration is cancelled and can no longer be changed."),
    "reason_required": _l("Write the reason."),
}


def local_time(value, tz):
    """A moment as the event's local date and time, in the current language (other values unchanged)."""
    if hasattr(value, "astimezone"):
        return format_datetime(value, "d MMMM y, HH:mm", tzinfo=tz, locale=get_locale() or "kk")
    return value


def describe(status, tz):
    """The status's reason as a sentence in the current language, times shown in the event's timezone."""
    text = REASONS.get(status.reason)
    if text is None:
        return status.reason
    params = {key: local_time(value, tz) for key, value in status.params.items()}
    return text % params if params else str(text)


def error_text(code, **params):
    text = ERRORS.get(code, code)
    return text % params if params else str(text)
