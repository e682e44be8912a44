"""Every organizer page is for the organizers of that event only: walked from the app's URL map."""
from datetime import date

import pytest

from eventreg.events.models import Event
from eventreg.extensions import db

from .organizer_helpers import log_in, person


def organizer_routes(app):
    """(method, rule) of every route under /organizer/, whichever feature registered it."""
    return sorted(((method, rule) for rule in app.url_map.iter_rules() if rule.rule.startswith("/organizer/")
                   for method in sorted(rule.methods - {"HEAD", "OPTIONS"})), key=lambda r: (r[1].rule, r[0]))


def test_the_walk_covers_the_organizer_feature(app):
    rules = {rule.rule for _, rule in organizer_routes(app)}
    for path in ("/", "/dashboard.json", "/participants", "/participants/<reference>",
                 "/participants/<reference>/erase",
                 "/participants.csv", "/participants.xlsx", "/participants.pdf", "/import", "/import/confirm",
                 "/import-template.csv"):
        assert f"/organizer/events/<slug>{path}" in rules


def url_for_rule(rule, slug, reference):
    values = {"slug": slug, "reference": reference, "token_id": 1, "evidence_id": 1, "item_id": 1}
    _, path = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)
    return path


@pytest.fixture
def other_event(app):
    other = Event(slug="other-slet", name_kk="Басқа слет", name_ru="Другой слет", name_en="Another slet",
                  starts_on=date(2030, 1, 1), ends_on=date(2030, 1, 2))
    db.session.add(other)
    db.session.commit()
    return other


@pytest.mark.parametrize("role", ["anonymous", "staff", "organizer of another event", "organizer"])
def test_every_organizer_route_answers_by_role(app, event, other_event, role):
    registration = person(event)
    client = app.test_client()
    if role == "staff":
        log_in(client, event, "staff")
    elif role == "organizer of another event":
        log_in(client, other_event, "organizer", email="elsewhere@example.kz")
    elif role == "organizer":
        log_in(client, event, "organizer")
    routes = organizer_routes(app)
    assert len(routes) >= 15
    # Reads first and the erasure last: the organizer's walk changes things as it goes.
    routes.sort(key=lambda route: (route[0] != "GET", route[1].rule.endswith("/erase")))
    for method, rule in routes:
        path = url_for_rule(rule, event.slug, registration.reference)
        response = client.open(path, method=method)
        where = f"{role}: {method} {path} answered {response.status_code}"
        if role == "anonymous" and rule.endpoint.startswith("organizer."):
            assert response.status_code == 302 and "/login" in response.headers["Location"], where
        elif role == "anonymous":  # other features' pages under /organizer/ may simply refuse
            assert response.status_code in (302, 401, 403), where
            assert response.status_code != 302 or "/login" in response.headers["Location"], where
        elif role == "organizer":
            assert response.status_code not in (302, 401, 403, 500), where
            if method == "GET" and "<int:" not in rule.rule:
                assert response.status_code == 200, where
        else:
            assert response.status_code == 403, where
