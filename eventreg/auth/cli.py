import sys

import click

from ..events.service import get_event_by_slug
from . import bp
from .models import ROLES
from .service import AccountError, create_or_update_user


def _read_password():
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")


@bp.cli.command("create-user", help="Create a user with a role for an event; password from a prompt or stdin.")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--event", "slug", required=True, help="The event's slug.")
def create_user_command(email, role, slug):
    event = get_event_by_slug(slug)
    if event is None:
        raise click.ClickException(f"no event with slug {slug!r}")
    try:
        user, created = create_or_update_user(email, _read_password(), role, event)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{'Created' if created else 'Updated'} {user.email}: {role} of {event.slug}")
