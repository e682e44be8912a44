"""Faults: a sign-up or a check-in cut off mid-transaction leaves nothing behind, and a database
that is away for a moment gives a clear 503 (a page in the visitor's language, JSON for the API)
while the scanner keeps queueing offline.

The faults are real: a statement of the real transaction raises (as a bug in our code would, or as
the database does when it fails), SQLite is really locked by another connection, PostgreSQL is
really unreachable or really drops the app's connection.
"""
import socket
import sqlite3
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.support import Translations
from sqlalchemy.engine import make_url

from config import Config, TestConfig
from eventreg import create_app
from eventreg.checkin.models import Checkpoint, Presence, Scan
from eventreg.events.models import Category, Event
from eventreg.extensions import db
from eventreg.notifications.models import OutboxMessage
from eventreg.registration.models import Registration, SearchTerm

from .checkin_helpers import new_scan_id
from .conftest import make_app
from .helpers import see_committed, sign_up_form
from .test_browser_scanner import log_in, scan_like_a_handheld_scanner

TRANSLATIONS = Path(__file__).resolve().parent.parent / "eventreg" / "translations"
SOMETHING_WENT_WRONG = "Something went wrong on our side. Please try again."
UNAVAILABLE = "The service is temporarily unavailable. Please try again in a minute."


def translated(message, language):
    text = Translations.load(str(TRANSLATIONS), [language]).gettext(message)
    assert text != message, f"no {language} translation of {message!r}"
    return text


def count(model):
    return db.session.execute(db.select(db.func.count()).select_from(model)).scalar()


# What each kind of fault raises inside the transaction: a bug in our code, or the database failing.
FAULTS = {
    "bug": (lambda dbapi: RuntimeError("injected fault"), 500),
    "database": (lambda dbapi: dbapi.OperationalError("injected fault: the database went away"), 503),
}


@contextmanager
def statement_fails(app, table, fault):
    """Make the served app's first INSERT into `table` raise, in the middle of its real transaction.

    Yields the list of statements that were cut off, so a test can show its fault really happened."""
    with app.app_context():
        engine = db.engine
    make_error = FAULTS[fault][0]
    cut = []

    def before_cursor_execute(_conn, _cursor, statement, _parameters, _context, _executemany):
        # Anywhere in the statement: on PostgreSQL the person's move is a WITH of the scan's INSERT.
        if not cut and f"INSERT INTO {table.upper()} " in statement.upper():
            cut.append(statement)
            raise make_error(engine.dialect.loaded_dbapi)

    sa.event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield cut
    finally:
        sa.event.remove(engine, "before_cursor_execute", before_cursor_execute)


def asks_to_retry(response):
    # Seconds; on rate-limited routes Flask-Limiter raises our 5 to the end of its current window.
    return int(response.headers["Retry-After"]) > 0


def sign_up_state(event):
    see_committed()
    category = next(c for c in event.categories if c.code == "volunteer")
    return {
        "registrations": count(Registration), "search_terms": count(SearchTerm), "outbox": count(OutboxMessage),
        "event_places": db.session.get(Event, event.id).confirmed_count,
        "category_places": db.session.get(Category, category.id).confirmed_count,
    }


# The last INSERT of a sign-up's transaction and one in its middle (after the registration's own row).
@pytest.mark.parametrize("table", [OutboxMessage.__table__.name, SearchTerm.__table__.name])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_sign_up_cut_off_mid_transaction_leaves_no_trace_and_the_retry_works(app, client, event, table, fault):
    app.config.update(PROPAGATE_EXCEPTIONS=False, MAIL_SEND_AT_ONCE=False)
    form = sign_up_form(event)
    url = f"/events/{event.slug}/register"
    before = sign_up_state(event)

    with statement_fails(app, table, fault) as cut:
        response = client.post(url, data=form, headers={"Accept-Language": "kk"})
    assert cut, "the fault never happened"
    status = FAULTS[fault][1]
    assert response.status_code == status
    assert '<html lang="kk">' in response.text
    assert translated(SOMETHING_WENT_WRONG if status == 500 else UNAVAILABLE, "kk") in response.text
    assert "Traceback" not in response.text and "INSERT" not in response.text and "injected" not in response.text
    assert sign_up_state(event) == before

    retry = client.post(url, data=form)
    assert retry.status_code == 303
    after = sign_up_state(event)
    assert after["registrations"] == before["registrations"] + 1
    assert after["outbox"] == before["outbox"] + 1
    assert after["search_terms"] > before["search_terms"]
    assert (after["event_places"], after["category_places"]) == (before["event_places"] + 1,
                                                                 before["category_places"] + 1)


def headcount(event, code="entrance"):
    see_committed()
    inside = (db.select(db.func.count()).select_from(Presence)
              .join(Checkpoint, Presence.checkpoint_id == Checkpoint.id)
              .where(Checkpoint.event_id == event.id, Checkpoint.code == code))
    return db.session.execute(inside).scalar()


# Where the person goes in (first), and the scan's own row (last, after they were put inside).
@pytest.mark.parametrize("table", [Presence.__table__.name, Scan.__table__.name])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_check_in_cut_off_mid_transaction_leaves_no_scan_and_the_next_scan_works(app, event, participant, scan,
                                                                                   table, fault):
    app.config.update(PROPAGATE_EXCEPTIONS=False, MAIL_SEND_AT_ONCE=False)
    _, earlier_code = participant()
    assert scan(earlier_code).status_code == 201
    registration, code = participant()
    scan_id = new_scan_id()
    inside = headcount(event)
    assert inside == 1

    with statement_fails(app, table, fault) as cut:
        response = scan(code, scan_id=scan_id)
    assert cut, "the fault never happened"
    status = FAULTS[fault][1]
    assert response.status_code == status
    assert response.json == {"result": "server_error" if status == 500 else "unavailable"}
    assert count(Scan) == 1  # the earlier person's
    assert headcount(event) == inside
    assert db.session.get(Presence, registration.id) is None

    # The scanner sends the same scan again (it keeps its scan_id), and then it counts, once.
    again = scan(code, scan_id=scan_id)
    assert again.status_code == 201 and again.json["result"] == "ok"
    assert again.json["zone"]["headcount"] == inside + 1
    assert headcount(event) == inside + 1
    assert count(Scan) == 2


def test_sqlite_locked_by_another_writer_past_the_busy_timeout_gives_503_then_works(database_url, app, event,
                                                                                    participant, token):
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("SQLite's write lock")
    _, code = participant()
    busy = make_app(database_url, SQLITE_BUSY_TIMEOUT_MS=100, MAIL_SEND_AT_ONCE=False)
    client = busy.test_client()
    form = sign_up_form(event)
    registrations = count(Registration)
    scan_body = {"code": code, "checkpoint": "entrance", "scan_id": new_scan_id()}
    headers = {"Authorization": f"Bearer {token}"}

    holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process writing, for longer than the busy timeout
        page = client.post(f"/events/{event.slug}/register", data=form, headers={"Accept-Language": "ru"})
        api = client.post(f"/api/v1/events/{event.slug}/checkins", json=scan_body, headers=headers)
        reading = client.get(f"/events/{event.slug}/register")
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert page.status_code == 503 and asks_to_retry(page)
    assert '<html lang="ru">' in page.text and translated(UNAVAILABLE, "ru") in page.text
    assert "locked" not in page.text and "Traceback" not in page.text
    assert api.status_code == 503 and api.json == {"result": "unavailable"} and asks_to_retry(api)
    assert reading.status_code == 200  # WAL: pages that only read go on while a writer holds the lock
    assert count(Registration) == registrations and count(Scan) == 0

    assert client.post(f"/events/{event.slug}/register", data=form).status_code == 303
    assert client.post(f"/api/v1/events/{event.slug}/checkins", json=scan_body, headers=headers).status_code == 201
    with busy.app_context():
        db.engine.dispose()


def unused_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_postgresql_unreachable_gives_a_503_page_in_the_visitors_language_and_503_json_to_the_api():
    unreachable = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://eventreg@127.0.0.1:"
                                                                 f"{unused_port()}/eventreg")
    client = unreachable.test_client()
    slug = "asyl-jurek-2021"

    for language in ("kk", "ru"):
        page = client.post(f"/events/{slug}/register", data={"last_name": "Әлібек"},
                           headers={"Accept-Language": language})
        assert page.status_code == 503 and asks_to_retry(page)
        assert f'<html lang="{language}">' in page.text and translated(UNAVAILABLE, language) in page.text
        assert "psycopg" not in page.text and "Traceback" not in page.text

    for method, path, body in [("post", "checkins", {"code": "X", "checkpoint": "entrance", "scan_id": "12345678"}),
                               ("post", "sync", {"scans": []}), ("get", "search?q=Әлібек", None),
                               ("get", "offline-data", None), ("get", "checkpoints", None)]:
        response = getattr(client, method)(f"/api/v1/events/{slug}/{path}", json=body,
                                           headers={"Authorization": "Bearer ert_whatever"})
        assert response.status_code == 503, path
        assert response.json == {"result": "unavailable"} and asks_to_retry(response)
    with unreachable.app_context():
        db.engine.dispose()


def test_postgresql_dropping_the_apps_connections_costs_one_503_then_the_pool_recovers(database_url, app, event,
                                                                                      token):
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("a PostgreSQL server to drop the connections")
    # Our own name on the connections, so that only this app's are dropped (other tests share the server).
    name = f"eventreg-faults-{uuid.uuid4().hex[:8]}"
    options = {**Config.SQLALCHEMY_ENGINE_OPTIONS, "connect_args": {"application_name": name}}
    served = make_app(database_url, SQLALCHEMY_ENGINE_OPTIONS=options)
    client = served.test_client()
    url, headers = f"/api/v1/events/{event.slug}/checkpoints", {"Authorization": f"Bearer {token}"}
    assert client.get(url, headers=headers).status_code == 200  # a connection now waits in the pool

    dropped = db.session.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                         "WHERE application_name = :name"), {"name": name}).scalars().all()
    db.session.commit()
    assert dropped == [True]

    # No pre-ping (it costs every request a round trip): the first request meets the dead
    # connection and answers 503; SQLAlchemy then renews the pool and the next one is served.
    first = client.get(url, headers=headers)
    assert first.status_code == 503 and first.json == {"result": "unavailable"}
    assert client.get(url, headers=headers).status_code == 200
    with served.app_context():
        db.engine.dispose()


@pytest.fixture
def door(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, extra_http_headers={"Accept-Language": "en"})
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.browser
def test_the_scanner_queues_offline_while_the_api_answers_503_and_syncs_after(live_server, door, event, staff,
                                                                               participant):
    registration, code = participant(last_name="Жұмабаев", first_name="Ерлан")
    log_in(door, live_server, "staff@example.kz", "staff password 1")
    door.goto(f"{live_server}/checkin/{event.slug}/entrance")
    door.wait_for_selector("#scanner[data-local-copy]")  # the local copy is downloaded

    # The database is away: the server answers, but with 503, to scans and to syncs alike.
    answered_503 = []

    def unavailable(route):
        answered_503.append(route.request.url)
        route.fulfill(status=503, content_type="application/json", headers={"Retry-After": "5"},
                      body='{"result": "unavailable"}')

    for pattern in ("**/api/v1/events/*/checkins", "**/api/v1/events/*/sync"):
        door.route(pattern, unavailable)
    scan_like_a_handheld_scanner(door, code)
    door.wait_for_selector("#result.result-green >> text=Жұмабаев Ерлан")
    assert door.locator("#offline-banner").is_visible()
    door.wait_for_selector("#queue-status >> text=Waiting to sync: 1")
    with door.expect_response("**/api/v1/events/*/sync", timeout=10000) as sync_attempt:
        pass  # the page tries to sync its queue every few seconds: 503 too
    assert sync_attempt.value.status == 503
    assert [url.rsplit("/", 1)[1] for url in answered_503][:1] == ["checkins"]
    assert door.locator("#queue-status").inner_text().startswith("Waiting to sync: 1")
    see_committed()
    assert count(Scan) == 0

    door.unroute("**/api/v1/events/*/checkins")
    door.unroute("**/api/v1/events/*/sync")
    door.wait_for_selector("#queue-status >> text=Waiting to sync: 0", timeout=20000)
    assert not door.locator("#offline-banner").is_visible()
    see_committed()
    scans = db.session.execute(db.select(Scan)).scalars().all()
    assert [(s.registration_id, s.result, s.offline) for s in scans] == [(registration.id, "ok", True)]
