import click

from . import bp
from .service import FAILED, SENT, send_outbox


@bp.cli.command("send-outbox", help="Send the queued emails; run it every minute (cron or a systemd timer).")
@click.option("--retry-failed", is_flag=True,
              help="Also try the messages given up after MAIL_MAX_ATTEMPTS failed attempts, once more each.")
def send_outbox_command(retry_failed):
    results = send_outbox(retry_failed=retry_failed)
    failed = [message for message, outcome in results if outcome == FAILED]
    for message in failed:
        click.echo(f"message {message.id} ({message.kind}, attempt {message.attempts}, now {message.status}): "
                   f"{message.last_error}")
    sent = sum(1 for _, outcome in results if outcome == SENT)
    click.echo(f"Sent {sent}, failed {len(failed)}, skipped {len(results) - sent - len(failed)}.")
    if failed:
        raise SystemExit(1)
