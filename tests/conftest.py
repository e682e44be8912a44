"""Fixtures: every test runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set."""
import os
import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient

from config import TestConfig
from eventreg import create_app
from eventreg.events.service import seed_demo
from eventreg.extensions import db

from .helpers import see_committed, sign_up_form

pytest_plugins = ["tests.browser", "tests.checkin_helpers"]

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def postgresql_url(schema=None):
    url = os.environ["TEST_DATABASE_URL"]
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    if schema:
        url += ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    return url


@pytest.fixture(scope="session")
def make_database(tmp_path_factory):
    """Make an empty database of a kind and return its URL; dropped at the end of the session."""
    schemas = []

    def make(kind):
        if kind == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        # A schema of our own in the shared `test` database: parallel runs never meet.
        schema = f"eventreg_test_{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine(postgresql_url())
        with engine.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        engine.dispose()
        schemas.append(schema)
        return postgresql_url(schema)

    yield make
    if schemas:
        engine = sa.create_engine(postgresql_url())
        with engine.begin() as connection:
            for schema in schemas:
                connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request, make_database):
    """A database with the schema of the models, shared by the tests of one kind."""
    url = make_database(request.param)
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.create_all()  # tests only: real deployments go through the migrations
        db.engine.dispose()
    return url


class Client(FlaskClient):
    """A test client after whose requests the test sees what they committed.

    On SQLite a transaction reads from the snapshot taken at its first read, so the
    test's own session ends its transaction after each request (tests commit what
    they set up before they make a request)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Assertions read English messages; language tests send their own header.
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        if has_app_context():  # not in the worker threads of concurrency tests
            see_committed()
        return response


def make_app(database_url, **overrides):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, **overrides)
    app.test_client_class = Client
    return app


@pytest.fixture
def app(database_url, tmp_path):
    """The app under test. The test body runs in the app context of a twin app on the same
    database, so that each request still gets a fresh app context of its own, as in
    production (a request reuses an active context of the same app, with its `g`, its
    cached locale and its logged-in user)."""
    os.environ["EVENTREG_INSTANCE_PATH"] = str(tmp_path / "instance")
    served = make_app(database_url)
    inspector = make_app(database_url)
    with inspector.app_context():
        yield served
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
        db.engine.dispose()
    with served.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def event(app):
    """The demo event, registration open."""
    event, _ = seed_demo(date.today())
    return event


@pytest.fixture
def sign_up(client, event):
    """POST the sign-up form with valid data, overridden by keyword arguments."""

    def post(**overrides):
        return client.post(f"/events/{event.slug}/register", data=sign_up_form(event, **overrides))

    return post
