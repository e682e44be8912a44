import click

from ..auth.access import has_role
from ..auth.models import STAFF, User
from ..events.service import get_event_by_slug
from ..extensions import db
from . import bp
from .service import get_checkpoint
from .tokens import create_token


@bp.cli.command("create-token", help="Make a scanner token for a staff member's device and print it (shown once).")
@click.argument("email")
@click.option("--event", "slug", required=True, help="The event's slug.")
@click.option("--checkpoint", "codes", multiple=True, help="Limit to this checkpoint (repeatable).")
@click.option("--hours", type=click.IntRange(1, 24 * 14), default=16, show_default=True,
              help="How long the token works (one shift).")
@click.option("--name", default="", help="A name for the device, e.g. 'entrance phone 2'.")
def create_token_command(email, slug, codes, hours, name):
    event = get_event_by_slug(slug)
    if event is None:
        raise click.ClickException(f"no event with slug {slug!r}")
    user = db.session.execute(db.select(User).filter_by(email=email.strip().lower())).scalar_one_or_none()
    if user is None or not has_role(user, event, STAFF):
        raise click.ClickException(f"{email} is not staff or organizer of {slug} (see create-user)")
    checkpoints = []
    for code in codes:
        checkpoint = get_checkpoint(event, code)
        if checkpoint is None:
            raise click.ClickException(f"no checkpoint {code!r} in {slug}")
        checkpoints.append(checkpoint)
    row, token = create_token(user, event, name=name, checkpoints=checkpoints, hours=hours)
    click.echo(token)
    click.echo(f"expires {row.expires_at:%Y-%m-%d %H:%M} UTC", err=True)
