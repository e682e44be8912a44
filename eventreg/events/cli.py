from datetime import date

import click

from . import bp
from .service import seed_demo


@bp.cli.command("seed-demo", help="Create the demo event (asyl-jurek-2021) with registration open today.")
def seed_demo_command():
    event, created = seed_demo(date.today())
    verb = "Created" if created else "Updated the dates of"
    click.echo(
        f"{verb} demo event '{event.slug}' ({len(event.regions)} regions, "
        f"{len(event.categories)} categories); registration open until "
        f"{event.registration_closes_at:%Y-%m-%d %H:%M} UTC."
    )
