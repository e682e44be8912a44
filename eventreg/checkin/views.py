"""The scanner page for staff; it talks to the JSON API with a token made for this browser."""
import io

import qrcode
import qrcode.image.svg
from flask import abort, current_app, flash, jsonify, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ..auth.access import event_role_required
from ..auth.models import ORGANIZER, STAFF
from ..events.service import get_event_or_404
from ..forms import Form
from ..i18n import current_language
from . import bp, offline, service
from .forms import CheckOutZoneForm, DeviceForm
from .tokens import create_token, event_staff, event_tokens, find_token, get_event_token, revoke


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


@bp.get("/checkin/sw.js")
def service_worker():
    """Served from /checkin/ so that it may control the scanner pages (a worker's scope is its folder)."""
    response = current_app.send_static_file("js/sw.js")
    response.headers["Cache-Control"] = "no-cache"  # browsers must see a new version at once
    return response


@bp.get("/checkin/manifest.webmanifest")
def manifest():
    """Lets staff install the scanner page like an app on the phone's home screen."""
    return jsonify({
        "name": "eventreg check-in", "short_name": "Check-in", "start_url": url_for(".pair_start"),
        "scope": "/checkin/", "display": "standalone", "background_color": "#0b3d6b", "theme_color": "#0b3d6b",
        "icons": [{"src": url_for("static", filename="favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }), 200, {"Content-Type": "application/manifest+json"}


@bp.get("/checkin/")
def pair_start():
    return redirect(url_for("events.index"))


@bp.get("/checkin/<slug>/pair")
def pair(slug):
    """Where a paired phone lands: the token travels in the URL fragment, which never reaches a server."""
    event = get_event_or_404(slug)
    return render_template("checkin/pair.html", event=event)


@bp.get("/checkin/<slug>/<checkpoint_code>/device")
def device_scanner(slug, checkpoint_code):
    """The scanner page for a paired device: no login, the device's own token (kept in the browser)."""
    event = get_event_or_404(slug)
    checkpoint = service.get_checkpoint(event, checkpoint_code) or abort(404)
    return render_template("checkin/scanner.html", event=event, checkpoint=checkpoint, token="")


def _pairing_qr(url):
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, border=4)
    out = io.BytesIO()
    image.save(out)
    return Markup(out.getvalue().decode())


@bp.route("/organizer/events/<slug>/devices", methods=["GET", "POST"])
@event_role_required(ORGANIZER)
def devices(event):
    form = DeviceForm()
    form.user.choices = [(u.id, u.email) for u in event_staff(event)]
    form.checkpoints.choices = [(c.id, c.name_in(current_language())) for c in service.checkpoints(event)]
    paired = None
    if form.validate_on_submit():
        user = next(u for u in event_staff(event) if u.id == form.user.data)
        chosen = [c for c in service.checkpoints(event) if c.id in (form.checkpoints.data or [])]
        row, token = create_token(user, event, name=form.name.data or "", checkpoints=chosen,
                                  hours=form.hours.data)
        url = url_for(".pair", slug=event.slug, _external=True) + "#" + token
        paired = {"row": row, "token": token, "url": url, "qr": _pairing_qr(url)}
    return render_template("checkin/devices.html", event=event, form=form, paired=paired,
                           tokens=event_tokens(event), revoke_form=Form()), 200 if not form.errors else 422


@bp.post("/organizer/events/<slug>/devices/<int:token_id>/revoke")
@event_role_required(ORGANIZER)
def revoke_device(event, token_id):
    row = get_event_token(event, token_id) or abort(404)
    if Form().validate_on_submit():
        revoke(row)
        flash(_("The device can no longer scan."), "success")
    return redirect(url_for(".devices", slug=event.slug), 303)


@bp.route("/organizer/events/<slug>/zones", methods=["GET", "POST"])
@event_role_required(ORGANIZER)
def zones(event):
    language = current_language()
    form = CheckOutZoneForm()
    zones_of_event = service.checkpoints(event)
    form.checkpoint.choices = [(c.id, c.name_in(language)) for c in zones_of_event]
    if form.validate_on_submit():
        try:
            at = service.local_time_today(event, form.at.data)
        except ValueError:
            form.at.errors = [_("Enter a time such as 22:00.")]
        else:
            checkpoint = next(c for c in zones_of_event if c.id == form.checkpoint.data)
            count = service.check_out_zone(event, checkpoint, user_id=current_user.id, at=at)
            flash(_("%(count)s people checked out of %(zone)s.", count=count, zone=checkpoint.name_in(language)),
                  "success")
            return redirect(url_for(".zones", slug=event.slug), 303)
    cards = [service.zone_card(c, language) for c in zones_of_event]
    return render_template("checkin/zones.html", event=event, zones=cards, form=form), 422 if form.errors else 200


@bp.get("/organizer/events/<slug>/conflicts")
@event_role_required(ORGANIZER)
def conflicts(event):
    """Offline scans the server did not take as made: the same person let in by two devices, a badge
    cancelled or reissued while the device was offline."""
    return render_template("checkin/conflicts.html", event=event, scans=offline.conflicts(event))
