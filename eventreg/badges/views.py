import tempfile

from flask import Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import event_role_required
from ..events.service import get_event_or_404
from ..i18n import current_language
from ..registration import service as registrations
from ..registration.models import CONFIRMED, WAITLISTED
from . import bp, service
from .forms import DESK_SIZES, NameForm, ReprintForm
from .pdf import SIZES, badge_pdf, badge_sheets_pdf
from .qr import qr_png


def _pdf_response(pdf, filename):
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    # Badges carry names: never in a shared cache.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _participant_badge_holder(slug, secret):
    event = get_event_or_404(slug)
    registration = registrations.get_by_secret(event, secret)
    if registration is None or not service.has_badge(registration):
        abort(404)
    return registration


@bp.get("/events/<slug>/p/<secret>/badge.pdf")
def participant_badge(slug, secret):
    registration = _participant_badge_holder(slug, secret)
    size = request.args.get("size", "a6")
    if size not in SIZES:
        abort(404)
    return _pdf_response(badge_pdf(registration, size), f"badge-{registration.reference}.pdf")


@bp.get("/events/<slug>/p/<secret>/qr.png")
def participant_qr(slug, secret):
    registration = _participant_badge_holder(slug, secret)
    response = Response(qr_png(service.badge_code(registration)), mimetype="image/png")
    response.headers["Cache-Control"] = "private, no-cache"  # a reissued badge changes it
    return response


@bp.get("/organizer/events/<slug>/badges.pdf")
@event_role_required("organizer")
def organizer_badges(event):
    status = request.args.get("status", CONFIRMED)
    if status not in (CONFIRMED, WAITLISTED):
        abort(400)
    chosen = service.batch(event, region=request.args.get("region") or None,
                           category=request.args.get("category") or None, status=status,
                           language=current_language())
    if not chosen:
        abort(404)
    # Rendered in chunks into a file on disk and sent from there: the request holds neither one
    # giant WeasyPrint document nor the whole PDF in memory.
    spool = tempfile.TemporaryFile()
    badge_sheets_pdf(chosen, spool)
    spool.seek(0)
    response = send_file(spool, mimetype="application/pdf", download_name=f"badges-{event.slug}.pdf")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/desk/<slug>/")
@event_role_required("staff")
def desk(event):
    query = request.args.get("q", "").strip()
    found = registrations.search(event, query) if query else []
    return _desk_page(event, query, found)


def _desk_page(event, query, found, name_form=None):
    # Every person's forms carry their reference as prefix: field ids stay unique on the page.
    name_forms = {r.id: NameForm(obj=r, prefix=r.reference, formdata=None) for r in found}
    if name_form is not None:
        name_forms[found[0].id] = name_form
    return render_template("badges/desk.html", event=event, query=query, found=found, name_forms=name_forms,
                           reprint_forms={r.id: ReprintForm(prefix=r.reference, formdata=None) for r in found},
                           sizes=DESK_SIZES, prints=service.print_counts(found))


def _desk_registration(event, reference):
    registration = service.get_by_reference(event, reference)
    if registration is None:
        abort(404)
    return registration


@bp.post("/desk/<slug>/<reference>/name")
@event_role_required("staff")
def desk_fix_name(event, reference):
    registration = _desk_registration(event, reference)
    form = NameForm(prefix=registration.reference)
    if not form.validate_on_submit():
        return _desk_page(event, registration.reference, [registration], name_form=form), 422
    service.fix_name(registration, form.last_name.data, form.first_name.data,
                     form.patronymic.data or "", form.latin_name.data or "")
    flash(_("The name has been corrected."), "success")
    return redirect(url_for(".desk", slug=event.slug, q=registration.reference), 303)


@bp.get("/desk/<slug>/<reference>/badge.pdf")
@event_role_required("staff")
def desk_print(event, reference):
    registration = _desk_registration(event, reference)
    size = request.args.get("size", "a6")
    if size not in dict(DESK_SIZES) or not service.has_badge(registration):
        abort(404)
    service.record_print(registration, current_user, size)
    return _pdf_response(badge_pdf(registration, size), f"badge-{registration.reference}.pdf")


@bp.post("/desk/<slug>/<reference>/reprint")
@event_role_required("staff")
def desk_reprint(event, reference):
    registration = _desk_registration(event, reference)
    if not service.has_badge(registration):
        abort(404)
    form = ReprintForm(prefix=registration.reference)
    if not form.validate_on_submit():
        abort(400)
    service.record_print(registration, current_user, form.size.data, reissue_code=form.reissue.data)
    return _pdf_response(badge_pdf(registration, form.size.data), f"badge-{registration.reference}.pdf")
