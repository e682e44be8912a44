"""Validation rules for participant data, shared by the sign-up form, imports and the API.

Each function returns the normalized value or raises ValidationFailure with a
reason code; the caller turns the code into a message in the user's language.
"""
from dataclasses import dataclass
from datetime import date

import phonenumbers


class ValidationFailure(ValueError):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class IinInfo:
    iin: str
    birth_date: date
    sex: str  # "M" or "F"


_FIRST_WEIGHTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_CENTURY = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}


def iin_check_digit(first_eleven):
    """The check digit for eleven digits, or None when no valid IIN has this prefix."""
    digits = [int(ch) for ch in first_eleven]
    for weights in (_FIRST_WEIGHTS, _SECOND_WEIGHTS):
        check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if check != 10:
            return check
    return None  # both passes give 10: such an IIN cannot exist (never default to 0)


def parse_iin(raw):
    """Validate an IIN (DOMAIN.md) and read the birth date and sex it encodes.

    Refused: wrong length ('iin_length'), non-digits ('iin_digits'), a 7th digit
    outside 1-6 ('iin_century'), a company BIN ('iin_bin'), a date that does not
    exist ('iin_date'), a wrong check digit ('iin_checksum').
    """
    value = "".join((raw or "").split())
    if not value.isascii() or not value.isdigit():
        raise ValidationFailure("iin_digits")
    if len(value) != 12:
        raise ValidationFailure("iin_length")
    if iin_check_digit(value[:11]) != int(value[11]):
        raise ValidationFailure("iin_checksum")
    if value[4] in "456":
        raise ValidationFailure("iin_bin")
    century = _CENTURY.get(value[6])
    if century is None:
        raise ValidationFailure("iin_century")
    try:
        birth_date = date(century + int(value[0:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        raise ValidationFailure("iin_date") from None
    return IinInfo(iin=value, birth_date=birth_date, sex="M" if int(value[6]) % 2 else "F")


def normalize_phone(raw, default_region="KZ"):
    """Parse a phone number as people type it (+7 7XX..., 8 7XX...) and return E.164."""
    try:
        number = phonenumbers.parse(raw or "", default_region)
    except phonenumbers.NumberParseException:
        raise ValidationFailure("phone_invalid") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailure("phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164):
    """An E.164 number grouped for display: +7 701 234 56 78."""
    if not e164:
        return ""
    if e164.startswith("+77") and len(e164) == 12:
        # Kazakhstan's customary grouping, which phonenumbers does not use.
        return f"+7 {e164[2:5]} {e164[5:8]} {e164[8:10]} {e164[10:12]}"
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def mask_iin(iin):
    """The only form of an IIN that may be shown outside the participant's own page."""
    return ("*" * 6 + iin[6:]) if iin else ""


def age_on(birth_date, day):
    """Whole years of age on a given day."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def iin_warnings(info, declared_birth_date, declared_sex=None):
    """Mismatches between the IIN and what the person declared: flagged, never refused."""
    warnings = []
    if info is None:
        return warnings
    if declared_birth_date and declared_birth_date != info.birth_date:
        warnings.append("birth_date_mismatch")
    if declared_sex and declared_sex != info.sex:
        warnings.append("sex_mismatch")
    return warnings
