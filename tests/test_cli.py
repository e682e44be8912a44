"""The command-line interface: seed-demo, create-user, migrations."""
from datetime import date

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from config import TestConfig
from eventreg import create_app
from eventreg.auth.models import User
from eventreg.events.models import Event
from eventreg.extensions import db


def test_seed_demo_creates_the_event_with_open_registration_and_is_idempotent(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "asyl-jurek-2021" in result.output
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    [event] = db.session.execute(db.select(Event)).scalars().all()
    assert event.registration_state() == "open"
    assert event.starts_on > date.today()
    assert len(event.regions) == 17
    assert {r.code for r in event.regions} >= {"AKM", "ALA", "AST", "SHY"}
    assert [c.code for c in event.categories] == ["volunteer", "group_leader", "yrc", "guest", "press", "staff"]
    from eventreg.checkin.models import Checkpoint
    assert db.session.execute(db.select(db.func.count()).select_from(Checkpoint)).scalar() == 4


def test_create_user_reads_the_password_from_standard_input(runner, event):
    result = runner.invoke(args=["create-user", "Org@Example.kz", "--role", "organizer", "--event", event.slug],
                           input="correct horse battery\n")
    assert result.exit_code == 0, result.output
    user = db.session.execute(db.select(User)).scalar_one()
    assert user.email == "org@example.kz"
    assert user.check_password("correct horse battery")
    assert user.password_hash != "correct horse battery"
    assert user.role_for(event) == "organizer"


def test_create_user_refuses_an_unknown_event_and_a_short_password(runner, event):
    assert runner.invoke(args=["create-user", "a@example.kz", "--role", "staff", "--event", "nope"],
                         input="long enough password\n").exit_code != 0
    assert runner.invoke(args=["create-user", "a@example.kz", "--role", "staff", "--event", event.slug],
                         input="short\n").exit_code != 0
    assert db.session.execute(db.select(User)).first() is None


def test_migrations_build_the_schema_of_the_models(make_database, database_url):
    """`flask db upgrade` on an empty database gives exactly the tables the models describe."""
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=make_database(kind))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
            assert diff == []
            assert "alembic_version" in sa.inspect(connection).get_table_names()
        db.engine.dispose()


def test_create_all_on_a_migrated_database_adds_nothing_and_fails_on_nothing(make_database, database_url):
    """Scripts (bench/exports.py) call create_all() after the migrations: the zone counters' triggers,
    which the models make with the presence table, are not made a second time."""
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=make_database(kind))
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        db.create_all()
        with db.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
        db.engine.dispose()


def test_backup_makes_a_copy_that_restores(runner, event, sign_up, tmp_path, app):
    import shutil

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        result = runner.invoke(args=["backup", str(tmp_path)])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    assert sign_up().status_code == 303
    result = runner.invoke(args=["backup", str(tmp_path / "copy.sqlite3")])
    assert result.exit_code == 0, result.output
    sign_up()  # written after the backup: gone after the restore
    from eventreg.registration.models import Registration

    live = db.engine.url.database
    db.session.remove()
    db.engine.dispose()
    with app.app_context():
        db.engine.dispose()
    shutil.copy(tmp_path / "copy.sqlite3", live)
    for suffix in ("-wal", "-shm"):
        from pathlib import Path
        Path(live + suffix).unlink(missing_ok=True)
    assert db.session.execute(db.select(db.func.count()).select_from(Registration)).scalar() == 1


def test_erase_expired_erases_personal_data_after_the_retention_period_only(runner, event, sign_up):
    from datetime import timedelta

    from eventreg.registration.models import Registration

    sign_up(iin="000101500001", birth_date="2000-01-01")
    result = runner.invoke(args=["erase-expired", "--days", "30"])
    assert result.exit_code == 0 and "No event ended" in result.output
    event.starts_on = date.today() - timedelta(days=40)
    event.ends_on = date.today() - timedelta(days=38)
    db.session.commit()
    result = runner.invoke(args=["erase-expired", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "erased the personal data of 1 participants" in result.output
    db.session.expire_all()
    person = db.session.execute(db.select(Registration)).scalar_one()
    assert (person.iin, person.email, person.phone, person.first_name) == (None, None, None, "")
    assert person.status == "confirmed"  # the counts stay right
    assert "erased the personal data of 0" in runner.invoke(args=["erase-expired", "--days", "30"]).output
