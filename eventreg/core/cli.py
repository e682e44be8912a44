"""Operations commands: backups of the embedded database."""
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import click
from flask import current_app

from ..extensions import db
from . import bp


@bp.cli.command("backup", help="Make a consistent copy of the SQLite database while the app keeps running.")
@click.argument("destination", required=False, type=click.Path(dir_okay=True, path_type=Path))
def backup_command(destination):
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            "backup copies the embedded SQLite database; for PostgreSQL use pg_dump (see the README)")
    source = Path(url.database)
    if destination is None or destination.is_dir():
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        destination = (destination or Path(current_app.instance_path) / "backups") / f"eventreg-{stamp}.sqlite3"
    destination.parent.mkdir(parents=True, exist_ok=True)
    copied = backup_sqlite(source, destination)
    click.echo(f"Backed up {source} to {destination} ({copied} pages).")


def backup_sqlite(source, destination):
    """SQLite's online backup: a consistent snapshot even while workers write (WAL included)."""
    with sqlite3.connect(source) as live, sqlite3.connect(destination) as copy:
        live.backup(copy)
        pages = copy.execute("PRAGMA page_count").fetchone()[0]
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
    if check != "ok":
        destination.unlink(missing_ok=True)
        raise click.ClickException(f"the copy failed its integrity check: {check}")
    return pages
