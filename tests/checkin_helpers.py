"""Fixtures for check-in tests: staff, tokens, and registered participants with their badge codes."""
import uuid

import pytest

from eventreg.auth.service import create_or_update_user
from eventreg.badges.service import badge_code
from eventreg.checkin.tokens import create_token
from eventreg.extensions import db
from eventreg.registration.models import Registration

from .helpers import sign_up_form


def new_scan_id():
    return str(uuid.uuid4())


@pytest.fixture
def staff(event):
    user, _ = create_or_update_user("staff@example.kz", "staff password 1", "staff", event)
    return user


@pytest.fixture
def token(staff, event):
    _, text = create_token(staff, event, name="entrance phone")
    return text


@pytest.fixture
def participant(client, event):
    """Register someone through the form; returns (registration, badge code)."""

    def make(**overrides):
        response = client.post(f"/events/{event.slug}/register", data=sign_up_form(event, **overrides))
        assert response.status_code == 303
        secret = response.headers["Location"].split("/p/")[1].split("?")[0]
        registration = db.session.execute(db.select(Registration).filter_by(secret=secret)).scalar_one()
        return registration, badge_code(registration)

    return make


@pytest.fixture
def scan(client, event, token):
    """POST a scan to the API with the staff token; returns the response."""

    def post(code, checkpoint="entrance", scan_id=None, bearer=None, **extra):
        body = {"code": code, "checkpoint": checkpoint, "scan_id": scan_id or new_scan_id(), **extra}
        return client.post(f"/api/v1/events/{event.slug}/checkins", json=body,
                           headers={"Authorization": f"Bearer {bearer or token}"})

    return post
