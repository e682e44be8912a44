"""What each refusal code means, in the user's language. One place for all of them."""
from flask_babel import lazy_gettext as _l

MESSAGES = {
    "iin_length": _l("The IIN has exactly 12 digits."),
    "iin_digits": _l("The IIN may contain digits only."),
    "iin_checksum": _l("This IIN is not valid: please check the digits (the last one is a check digit)."),
    "iin_century": _l("This IIN is not valid: its 7th digit must be from 1 to 6."),
    "iin_date": _l("This IIN is not valid: its first six digits are not a real date of birth."),
    "iin_bin": _l("This looks like a BIN (a company number), not a personal IIN."),
    "phone_invalid": _l("Enter a valid phone number, for example +7 701 234 56 78."),
    "consent_required": _l("We can register you only with your consent to the processing of personal data."),
    "guardian_consent_required": _l(
        "Participants under %(age)s need the consent of a parent or guardian: enter their name and tick the box."
    ),
    "category_invalid": _l("Choose a participant category from the list."),
    "region_invalid": _l("Choose your region from the list."),
    "duplicate_iin": _l(
        "A participant with this IIN is already registered for this event. "
        "Use the link from your confirmation to see or change your registration."
    ),
    "duplicate_email": _l(
        "This email address is already registered for this event. "
        "Use the link from your confirmation to see or change your registration."
    ),
    "registration_closed": _l("Registration for this event is closed."),
    "registration_not_yet": _l("Registration for this event has not opened yet."),
    "full": _l("All places are taken. Tick “Put me on the waitlist” to join the waitlist."),
    "cancelled": _l("This registration is cancelled and can no longer be changed."),
}

WARNINGS = {
    "birth_date_mismatch": _l("The birth date differs from the date in the IIN"),
    "sex_mismatch": _l("The sex differs from the one in the IIN"),
}


def message_for(code, **params):
    text = MESSAGES.get(code, code)
    return text % params if params else str(text)
