"""Bad input everywhere: generated inputs never crash a validator or a form, and change nothing."""
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventreg.extensions import db
from eventreg.registration.models import Registration
from eventreg.registration.validators import ValidationFailure, normalize_phone, parse_iin

from .helpers import sign_up_form

ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
DIGITS = st.text(alphabet=string.digits, min_size=0, max_size=14)


@given(st.one_of(ANY_TEXT, DIGITS))
def test_iin_validation_either_accepts_or_refuses_with_a_reason(value):
    try:
        info = parse_iin(value)
    except ValidationFailure as failure:
        assert failure.code.startswith("iin_")
    else:
        assert len(info.iin) == 12 and info.iin.isdigit() and info.sex in ("M", "F")


@given(st.one_of(ANY_TEXT, st.text(alphabet="+0123456789 ()-", max_size=20)))
def test_phone_validation_either_gives_e164_or_refuses(value):
    try:
        e164 = normalize_phone(value)
    except ValidationFailure as failure:
        assert failure.code == "phone_invalid"
    else:
        assert e164.startswith("+") and e164[1:].isdigit()


FIELDS = ["last_name", "first_name", "patronymic", "iin", "birth_date", "phone", "email", "region", "category",
          "language", "sex", "guardian_name", "organization", "latin_name"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FIELDS), value=st.one_of(ANY_TEXT, st.just(""), st.text(max_size=400)))
def test_sign_up_with_one_field_garbled_never_fails_with_500(client, event, field, value):
    before = db.session.execute(db.select(db.func.count()).select_from(Registration)).scalar()
    response = client.post(f"/events/{event.slug}/register", data=sign_up_form(event, **{field: value}))
    assert response.status_code in (303, 409, 422), (field, value, response.status_code)
    after = db.session.execute(db.select(db.func.count()).select_from(Registration)).scalar()
    assert after == before + (1 if response.status_code == 303 else 0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.dictionaries(st.sampled_from(["code", "checkpoint", "scan_id", "scanned_at", "direction"]),
                                      st.one_of(ANY_TEXT, st.integers(), st.none(), st.booleans()), max_size=5),
                      st.lists(st.integers(), max_size=3), ANY_TEXT))
def test_checkin_api_answers_every_body_without_500(client, event, token, body):
    response = client.post(f"/api/v1/events/{event.slug}/checkins", json=body,
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (body, response.status_code)


def test_oversized_bodies_are_refused(client, event):
    response = client.post(f"/events/{event.slug}/register", data={"last_name": "x" * (9 * 1024 * 1024)})
    assert response.status_code == 413
