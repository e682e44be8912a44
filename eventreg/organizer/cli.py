from datetime import date

import click
from flask import current_app

from . import bp
from .service import erase_after_retention


@bp.cli.command("erase-expired", help="Erase participants' personal data of events that ended more than "
                                      "RETENTION_DAYS (or --days) ago. Run it daily from cron.")
@click.option("--days", type=click.IntRange(0, 3650), default=None, help="Retention after the event's end.")
@click.option("--event", "slug", default=None, help="Only this event.")
def erase_expired_command(days, slug):
    days = current_app.config["RETENTION_DAYS"] if days is None else days
    done = erase_after_retention(date.today(), days, slug)
    if not done:
        click.echo(f"No event ended more than {days} days ago{f' with slug {slug!r}' if slug else ''}.")
    for event, erased in done:
        click.echo(f"{event.slug}: erased the personal data of {erased} participants "
                   f"(event ended {event.ends_on}, kept {days} days).")
