"""Every route of the app, as every kind of visitor: a new route that is not in the matrix fails here.

Each route has an audience. For each (route, method) the test asks as anonymous, as staff of another
event, as staff of this event and as an organizer of this event, with the participant's secret right
or wrong, and checks the answer the audience says it should get. Rights to act (with real data) are
tested feature by feature; here every door is checked to be locked for those it is not meant for.
"""
import pytest

from eventreg.auth.service import create_or_update_user
from eventreg.events.models import Event
from eventreg.extensions import db

from .conftest import make_app

PUBLIC = "public"          # anyone
SECRET = "secret"          # the participant, through the secret in the URL
STAFF = "staff"            # staff (or organizers) of this event
ORGANIZER = "organizer"    # organizers of this event
TOKEN = "token"            # the JSON API: a device token of this event

AUDIENCE = {
    "events.index": PUBLIC, "events.event_page": PUBLIC, "registration.register": PUBLIC,
    "core.healthz": PUBLIC, "core.version": PUBLIC, "api.openapi": PUBLIC, "static": PUBLIC,
    "auth.login": PUBLIC, "auth.logout": STAFF,
    "checkin.pair_start": PUBLIC, "checkin.pair": PUBLIC, "checkin.device_scanner": PUBLIC,
    "checkin.manifest": PUBLIC, "checkin.service_worker": PUBLIC,
    "registration.private_page": SECRET, "registration.edit": SECRET, "registration.cancel": SECRET,
    "badges.participant_badge": SECRET, "badges.participant_qr": SECRET,
    "notifications.resend_confirmation": SECRET, "attestations.declaration": SECRET,
    "attestations.add_evidence": SECRET, "attestations.participant_file": SECRET,
    "checkin.choose_checkpoint": STAFF, "checkin.scanner": STAFF, "attestations.staff_declaration": STAFF,
    "badges.desk": STAFF, "badges.desk_print": STAFF, "badges.desk_fix_name": STAFF, "badges.desk_reprint": STAFF,
}
for endpoint in ("create_checkin", "undo_checkin", "checkpoints", "offline_data", "search", "sync"):
    AUDIENCE[f"api.{endpoint}"] = TOKEN


def audience(rule):
    if rule.rule.startswith("/organizer/"):
        return ORGANIZER
    return AUDIENCE.get(rule.endpoint)


def routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def url_of(rule, event, secret):
    values = {}
    for name in rule.arguments:
        values[name] = {"slug": event.slug, "secret": secret, "filename": "css/app.css",
                        "checkpoint_code": "entrance"}.get(name, 1 if name.endswith("_id") else "AAAA2222")
    return rule.build(values)[1]


def test_every_route_has_an_audience(app):
    missing = sorted({rule.endpoint for rule, _ in routes(app) if audience(rule) is None})
    assert not missing, f"add these routes to the access matrix: {missing}"


@pytest.fixture
def people(event):
    other = Event(slug="other", name_kk="Басқа", name_ru="Другое", name_en="Other",
                  starts_on=event.starts_on, ends_on=event.ends_on)
    db.session.add(other)
    db.session.commit()
    create_or_update_user("outsider@example.kz", "outsider password", "organizer", other)
    create_or_update_user("door@example.kz", "door password 1", "staff", event)
    create_or_update_user("boss@example.kz", "boss password 1", "organizer", event)
    return {"anonymous": None, "outsider": "outsider@example.kz", "staff": "door@example.kz",
            "organizer": "boss@example.kz"}


PASSWORDS = {"outsider@example.kz": "outsider password", "door@example.kz": "door password 1",
             "boss@example.kz": "boss password 1"}


def allowed(kind, who):
    """Whether `who` belongs to the audience `kind` (the token API is checked without a token)."""
    return {PUBLIC: True, SECRET: True, TOKEN: False,
            STAFF: who in ("staff", "organizer"), ORGANIZER: who == "organizer"}[kind]


@pytest.mark.parametrize("who", ["anonymous", "outsider", "staff", "organizer"])
def test_each_route_answers_each_visitor_as_its_audience_says(app, event, people, who):
    csrf_off = make_app(app.config["SQLALCHEMY_DATABASE_URI"])
    client = csrf_off.test_client()
    if people[who]:
        assert client.post("/login", data={"email": people[who], "password": PASSWORDS[people[who]]}).status_code == 303
    wrong_secret = "x" * 32
    for rule, method in routes(csrf_off):
        kind = audience(rule)
        if rule.endpoint == "auth.logout":
            continue  # logging out ends the session the rest of this walk needs
        url = url_of(rule, event, wrong_secret)
        response = client.open(url, method=method, data={})
        status = response.status_code
        where = f"{method} {rule.rule} as {who}"
        if kind == TOKEN:
            assert status == 401, where
        elif kind == SECRET:
            assert status == 404, where  # a wrong secret finds nothing, whoever asks
        elif kind in (STAFF, ORGANIZER):
            if who == "anonymous":
                assert status in (302, 403), where
                if status == 302:
                    assert "/login" in response.headers["Location"], where
            elif not allowed(kind, who):
                assert status == 403, where
            else:
                assert status not in (302, 401, 403, 500), where
        else:
            assert status < 500, where
