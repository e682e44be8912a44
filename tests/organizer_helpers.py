"""Helpers for the organizer tests: logging in with a role, and people registered directly."""
import itertools
from datetime import date

from eventreg.auth.service import create_or_update_user
from eventreg.registration.service import ParticipantData, register

from .helpers import make_iin

PASSWORD = "organizer password 1"
_numbers = itertools.count(1)


def log_in(client, event, role="organizer", email=None):
    email = email or f"{role}@example.kz"
    user, _ = create_or_update_user(email, PASSWORD, role, event)
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 303
    return user


def region(event, code):
    return next(r for r in event.regions if r.code == code)


def category(event, code):
    return next(c for c in event.categories if c.code == code)


def person(event, region_code="ALM", category_code="volunteer", **overrides):
    """Register someone as an organizer would (registration.service.register, not the public form)."""
    number = next(_numbers)
    values = dict(
        last_name="Сәрсенбаева", first_name="Әйгерім", patronymic="Қайратқызы",
        birth_date=date(2000, 3, 15), phone=f"+7701{number:07d}", email=f"person{number}@example.kz",
        region_id=region(event, region_code).id, category_id=category(event, category_code).id,
        iin=make_iin(date(2000, 3, 15), "F"), organization="Жастар ресурстық орталығы", consent=True,
    )
    values.update(overrides)
    return register(event, ParticipantData(**values), public=False)
