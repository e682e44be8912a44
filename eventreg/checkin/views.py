"""The scanner page for staff; it talks to the JSON API with a token made for this browser."""
from flask import abort, render_template, session
from flask_login import current_user

from ..auth.access import event_role_required
from ..auth.models import STAFF
from ..i18n import current_language
from . import bp, service
from .tokens import create_token, find_token


def _browser_token(event):
    """One device token per staff browser and event, kept in the session until it expires."""
    tokens = session.get("scanner_tokens", {})
    token = tokens.get(event.slug)
    if token is None or find_token(event, token) is None:
        _, token = create_token(current_user, event, name="browser scanner page")
        session["scanner_tokens"] = {**tokens, event.slug: token}
    return token


@bp.get("/checkin/<slug>/")
@event_role_required(STAFF)
def choose_checkpoint(event):
    zones = [service.zone_card(c, current_language()) for c in service.checkpoints(event)]
    return render_template("checkin/choose.html", event=event, zones=zones)


@bp.get("/checkin/<slug>/<checkpoint_code>")
@event_role_required(STAFF)
def scanner(event, checkpoint_code):
    checkpoint = service.get_checkpoint(event, checkpoint_code) or abort(404)
    return render_template("checkin/scanner.html", event=event, checkpoint=checkpoint,
                           token=_browser_token(event))
