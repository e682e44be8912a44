from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..events.service import get_event_or_404
from ..registration.messages import message_for
from ..registration.service import get_by_secret
from . import bp, service

REFUSALS = {
    "too_soon": _l("We sent you an email less than a minute ago. Please check your inbox and spam folder, "
                   "or try again in a minute."),
    "no_email": _l("Your registration has no email address: add one with “Correct my details”."),
}


@bp.post("/events/<slug>/p/<secret>/resend")
def resend_confirmation(slug, secret):
    event = get_event_or_404(slug)
    registration = get_by_secret(event, secret)
    if registration is None:
        abort(404)
    try:
        service.resend_confirmation(registration)
    except service.ResendRefused as refusal:
        flash(REFUSALS.get(refusal.code) or message_for(refusal.code), "warning")
    else:
        flash(_("Your confirmation email is on its way to %(email)s.", email=registration.email), "success")
    return redirect(url_for("registration.private_page", slug=slug, secret=secret), 303)
