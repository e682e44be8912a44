"""CSRF protection stays on outside the tests that switch it off: every POST route needs the token."""
import re

import pytest

from eventreg.extensions import db
from eventreg.registration.models import Registration

from .conftest import make_app
from .helpers import sign_up_form


@pytest.fixture
def csrf_app(app):
    return make_app(app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)


def post_routes(app):
    return [rule for rule in app.url_map.iter_rules() if "POST" in rule.methods]


def test_every_post_route_refuses_a_request_without_the_token(csrf_app, event):
    """Cookie-authenticated forms need the CSRF token; the JSON API takes bearer tokens instead,
    which a cross-site form cannot send, so there the answer without one is 401."""
    client = csrf_app.test_client()
    routes = post_routes(csrf_app)
    assert routes, "the app has POST routes to protect"
    for rule in routes:
        values = {name: (1 if name.endswith("_id") else "x") for name in rule.arguments}
        values["slug"] = event.slug
        url = rule.build(values)[1]
        response = client.post(url, data={})
        expected = 401 if rule.rule.startswith("/api/") else 400
        assert response.status_code == expected, f"{rule.rule} answered {response.status_code} without a token"
    assert db.session.execute(db.select(Registration)).first() is None


def test_sign_up_with_the_token_from_the_form_succeeds(csrf_app, event):
    client = csrf_app.test_client()
    page = client.get(f"/events/{event.slug}/register")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    response = client.post(f"/events/{event.slug}/register", data=dict(sign_up_form(event), csrf_token=token))
    assert response.status_code == 303


def test_a_token_from_another_session_is_refused(csrf_app, event):
    page = csrf_app.test_client().get(f"/events/{event.slug}/register")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    response = csrf_app.test_client().post(f"/events/{event.slug}/register",
                                           data=dict(sign_up_form(event), csrf_token=token))
    assert response.status_code == 400
    assert db.session.execute(db.select(Registration)).first() is None
