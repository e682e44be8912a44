"""Test data: valid IINs and sign-up forms."""
import itertools
from datetime import date

from eventreg.extensions import db
from eventreg.registration.validators import iin_check_digit

_serials = itertools.count(1)


def make_iin(birth_date=date(2000, 1, 1), sex="M", serial=None):
    """A valid synthetic IIN for a birth date and sex (skips prefixes that have no valid IIN)."""
    century_digit = {1800: 1, 1900: 3, 2000: 5}[birth_date.year // 100 * 100] + (0 if sex == "M" else 1)
    while True:
        number = serial if serial is not None else next(_serials)
        prefix = f"{birth_date:%y%m%d}{century_digit}{number % 10000:04d}"
        check = iin_check_digit(prefix)
        if check is not None:
            return f"{prefix}{check}"
        serial = None


def sign_up_form(event, **overrides):
    number = next(_serials)
    data = {
        "last_name": "Сәрсенбаева",
        "first_name": "Әйгерім",
        "patronymic": "Қайратқызы",
        "iin": make_iin(date(2000, 3, 15), "F"),
        "birth_date": "2000-03-15",
        "phone": f"+7 701 {number % 1000:03d} {number // 1000 % 100:02d} 11",
        "email": f"volunteer{number}@example.kz",
        "region": str(event.regions[0].id),
        "organization": "Алматы облысының жастар ресурстық орталығы",
        "category": str(next(c.id for c in event.categories if c.code == "volunteer")),
        "language": "kk",
        "consent": "y",
        "accept_waitlist": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def see_committed():
    """End the test's own transaction and forget loaded objects, to read what others committed
    (SQLite reads from a snapshot; objects stay loaded after commit)."""
    db.session.rollback()
    db.session.expire_all()
