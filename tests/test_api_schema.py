"""schemathesis against /api/v1/openapi.json, loaded from the app itself.

Every operation of the document gets generated requests, schema-valid and not, with the demo
event's bearer token and without a valid one: no answer is a 5xx, every answer is one the document
describes (status code, content type, headers, body), and a refused request writes nothing.
Generation is derandomized and bounded (API_SCHEMA_EXAMPLES per operation and kind of data).
"""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from eventreg.api.openapi import openapi_document
from eventreg.audit import AuditEntry
from eventreg.checkin.models import Presence, Scan
from eventreg.checkin.tokens import create_token
from eventreg.events.models import Event
from eventreg.extensions import db

from .helpers import see_committed

EXAMPLES = int(os.environ.get("API_SCHEMA_EXAMPLES", 25))
DOCUMENT = openapi_document()
OPERATIONS = [(method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item]


def _negatable(method, path):
    """Whether the operation takes anything besides the event's slug that can be made invalid."""
    definition = DOCUMENT["paths"][path][method.lower()]
    return "requestBody" in definition or any(p["name"] != "slug" for p in definition["parameters"])


WITH_TOKEN = [
    pytest.param(method, path, mode, id=f"{mode.value}-{method} {path}")
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode == GenerationMode.POSITIVE or _negatable(method, path)
]


def written():
    """What a request may write: scans, where people are, the audit log."""
    see_committed()
    count = db.func.count()
    return {
        "scans": db.session.execute(db.select(count).select_from(Scan)).scalar(),
        "presence": db.session.execute(db.select(Presence.registration_id, Presence.checkpoint_id)
                                       .order_by(Presence.registration_id)).all(),
        "audit": db.session.execute(db.select(count).select_from(AuditEntry)).scalar(),
    }


def check_nothing_half_written(case, response, before, after):
    new_scans = after["scans"] - before["scans"]
    if case.method == "GET" or response.status_code >= 400 and "scan_id" not in response.json():
        assert after == before  # a read, or refused before any scan was decided
    elif response.status_code >= 400:
        # A decided scan that was refused: its answer is kept (a resend gets it back), nobody moved.
        assert new_scans in (0, 1) and after["presence"] == before["presence"]
    elif case.path.endswith("/sync"):
        assert 0 <= new_scans <= len(case.body["scans"])  # one row per scan sent, none for a resent one
    else:
        assert new_scans in (0, 1)


@pytest.fixture
def api_schema(app, event, participant):
    app.config["MAIL_SEND_AT_ONCE"] = False  # confirmations stay queued: no badge PDFs to render here
    codes = [participant()[1] for _ in range(3)]
    config = schemathesis.Config.from_dict({
        # The token is the test's to send (a real one, or none): not a generated header.
        "generation": {"deterministic": True, "with-security-parameters": False},
        # Real badge codes and checkpoints half the time, so that check-ins get past "unknown".
        "dictionaries": {
            "codes": {"values": codes},
            "checkpoints": {"values": ["entrance", "trainings", "games", "concert"]},
        },
        "parameters": {
            "body.code": {"dictionary": "codes", "probability": 0.5},
            "body.checkpoint": {"dictionary": "checkpoints", "probability": 0.7},
            "body.scans[*].code": {"dictionary": "codes", "probability": 0.5},
            "body.scans[*].checkpoint": {"dictionary": "checkpoints", "probability": 0.7},
        },
    })
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)


def bounded(test):
    return settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))(test)


@pytest.mark.parametrize("method, path, mode", WITH_TOKEN)
def test_with_the_events_token_every_answer_is_documented_and_a_refusal_writes_nothing(api_schema, event, token,
                                                                                      method, path, mode):
    operation = api_schema[path][method]
    # The test client does not undo gzip as an HTTP library would: ask for the plain body.
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}

    @given(case=operation.as_strategy(mode, path_parameters={"slug": event.slug}))
    @bounded
    def answers(case):
        before = written()
        response = case.call_and_validate(headers=headers)
        check_nothing_half_written(case, response, before, written())

    answers()


@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_without_a_valid_token_every_operation_answers_401_and_writes_nothing(api_schema, event, token, staff,
                                                                              method, path):
    other = Event(slug="another-slet", name_kk="Басқа", name_ru="Другой", name_en="Another",
                  starts_on=event.starts_on, ends_on=event.ends_on, timezone=event.timezone)
    db.session.add(other)
    db.session.commit()
    _, other_events_token = create_token(staff, other, name="another event's phone")
    operation = api_schema[path][method]
    credentials = st.sampled_from([{}, {"Authorization": "Bearer ert_not-a-token"},
                                   {"Authorization": f"Basic {token}"}, {"Authorization": token},
                                   {"Authorization": f"Bearer {other_events_token}"}])

    @given(case=operation.as_strategy(GenerationMode.POSITIVE, path_parameters={"slug": event.slug}),
           headers=credentials)
    @bounded
    def refused(case, headers):
        before = written()
        response = case.call_and_validate(headers={**headers, "Accept-Encoding": "identity"})
        assert response.status_code == 401
        assert response.json() == {"result": "unauthorized"}
        assert written() == before

    refused()


@pytest.mark.parametrize("field", ["code", "checkpoint", "scan_id"])
@pytest.mark.parametrize("text", ["\\u0000", "\\ud800"], ids=["NUL", "lone surrogate"])
def test_json_text_the_database_cannot_store_is_refused_not_a_500(app, client, event, token, participant, field,
                                                                   text):
    """JSON lets a client escape NUL (PostgreSQL text cannot hold it) and half a surrogate pair (it
    has no UTF-8): valid JSON that no database column can take."""
    app.config["MAIL_SEND_AT_ONCE"] = False
    _, code = participant()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    values = {"code": code, "checkpoint": "entrance", "scan_id": "0123456789ab"}
    scan = ", ".join(f'"{name}": "{text + value if name == field else value}"' for name, value in values.items())
    checkin = client.post(f"/api/v1/events/{event.slug}/checkins", data=f"{{{scan}}}", headers=headers)
    sync = client.post(f"/api/v1/events/{event.slug}/sync", headers=headers,
                       data=f'{{"scans": [{{{scan}, "scanned_at": "2021-09-24T08:00:00Z"}}]}}')
    assert (checkin.status_code, checkin.json) == (422, {"result": "invalid_scan"})
    assert (sync.status_code, sync.json) == (422, {"result": "invalid_scan"})
    assert written()["scans"] == 0


@pytest.mark.parametrize("url", ["/api/v1/events/{slug}/search?q=a%00b", "/api/v1/events/asyl%00/checkpoints",
                                 "/api/v1/events/{slug}/checkins/ab%00cdefgh/undo"])
def test_a_nul_in_the_url_is_refused_not_a_500(client, event, token, url):
    method = client.post if url.endswith("/undo") else client.get
    response = method(url.format(slug=event.slug), headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.json) == (400, {"result": "invalid_request"})
