import tempfile

from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import event_role_required
from ..auth.models import ORGANIZER
from ..i18n import current_language
from ..notifications import service as notifications
from ..notifications.views import REFUSALS as RESEND_REFUSALS
from ..registration.messages import WARNINGS, message_for
from ..registration.models import CANCELLED, STATUSES
from ..registration.service import RegistrationError
from ..registration.views import _form_data, _show_refusal
from . import bp, exports, imports, sanitary, service
from .forms import ActionForm, CancelParticipantForm, ConfirmImportForm, EraseForm, ImportForm, OrganizerParticipantForm


def _no_store(response):
    # Lists of names, phones and IINs: never kept by a cache on the way or on disk.
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- dashboard ---

@bp.get("/events/<slug>/")
@event_role_required(ORGANIZER)
def dashboard(event):
    figures = service.dashboard(event, current_language())
    return render_template("organizer/dashboard.html", event=event, figures=figures,
                           sanitary_labels=dict(_sanitary_states()))


@bp.get("/events/<slug>/dashboard.json")
@event_role_required(ORGANIZER)
def dashboard_data(event):
    return _no_store(jsonify(service.dashboard(event, current_language())))


# --- the participant list ---

@bp.get("/events/<slug>/participants")
@event_role_required(ORGANIZER)
def participants(event):
    filters = service.Filters.from_args(request.args, event)
    page = request.args.get("page", 1, type=int)
    return render_template("organizer/participants.html", event=event, filters=filters,
                           pagination=service.participants_page(event, filters, page),
                           statuses=STATUSES, columns=exports.available_columns(),
                           default_columns=exports.DEFAULT_COLUMNS, sanitary_states=_sanitary_states(),
                           sanitary_labels=dict(_sanitary_states()), status_labels=exports.STATUS_LABELS)


def _sanitary_states():
    if not sanitary.available():
        return []
    from ..attestations.messages import STATES

    return [(code, STATES.get(code, code)) for code in sanitary.STATUSES]


def _participant_or_404(event, reference):
    registration = service.get_participant(event, reference)
    if registration is None:
        abort(404)
    return registration


def _participant_page(event, registration, form=None, status=200):
    erased = service.is_erased(registration)
    if form is None and not erased and registration.status != CANCELLED:
        form = OrganizerParticipantForm(obj=registration, formdata=None)
        form.region.data = registration.region_id
    if form is not None:
        form.set_choices(event, current_language())
    return render_template(
        "organizer/participant.html", event=event, registration=registration, form=form, erased=erased,
        history=service.participant_history(registration), action_form=ActionForm(formdata=None),
        cancel_form=CancelParticipantForm(formdata=None), erase_form=EraseForm(formdata=None),
        warnings=[WARNINGS[w] for w in registration.warnings if w in WARNINGS], status_labels=exports.STATUS_LABELS,
    ), status


@bp.route("/events/<slug>/participants/<reference>", methods=["GET", "POST"])
@event_role_required(ORGANIZER)
def participant(event, reference):
    registration = _participant_or_404(event, reference)
    if request.method == "GET":
        return _participant_page(event, registration)
    if service.is_erased(registration) or registration.status == CANCELLED:
        abort(409)
    form = OrganizerParticipantForm()
    form.set_choices(event, current_language())
    if not form.validate_on_submit():
        return _participant_page(event, registration, form, 422)
    try:
        service.edit(registration, _form_data(form, category_id=registration.category_id, consent=True),
                     current_user)
    except RegistrationError as error:
        _show_refusal(form, error, event)
        return _participant_page(event, registration, form, 409 if error.code.startswith("duplicate") else 422)
    flash(_("The participant's details have been saved."), "success")
    return _back_to(event, registration)


def _back_to(event, registration):
    return redirect(url_for(".participant", slug=event.slug, reference=registration.reference), 303)


@bp.post("/events/<slug>/participants/<reference>/cancel")
@event_role_required(ORGANIZER)
def cancel(event, reference):
    registration = _participant_or_404(event, reference)
    if registration.status != CANCELLED:
        form = CancelParticipantForm()
        if not form.validate_on_submit():
            flash(_("Tick the box to confirm."), "warning")
            return _back_to(event, registration)
        promoted = service.cancel(registration, current_user)
        if promoted is not None:
            notifications.announce_promotions([promoted])
        flash(_("The registration has been cancelled."), "success")
    return _back_to(event, registration)


@bp.post("/events/<slug>/participants/<reference>/reissue")
@event_role_required(ORGANIZER)
def reissue(event, reference):
    registration = _participant_or_404(event, reference)
    if not ActionForm().validate_on_submit():
        abort(400)
    if registration.status == CANCELLED or service.is_erased(registration):
        abort(409)
    service.reissue_badge(registration, current_user)
    flash(_("A new badge code has been issued: earlier badges of this person no longer work."), "success")
    return _back_to(event, registration)


@bp.post("/events/<slug>/participants/<reference>/resend")
@event_role_required(ORGANIZER)
def resend(event, reference):
    registration = _participant_or_404(event, reference)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.resend_email(registration, current_user)
    except notifications.ResendRefused as refusal:
        flash(RESEND_REFUSALS.get(refusal.code) or message_for(refusal.code), "warning")
    else:
        flash(_("The confirmation email is on its way to %(email)s.", email=registration.email), "success")
    return _back_to(event, registration)


@bp.post("/events/<slug>/participants/<reference>/erase")
@event_role_required(ORGANIZER)
def erase(event, reference):
    registration = _participant_or_404(event, reference)
    form = EraseForm()
    if not form.validate_on_submit():
        flash(_("Tick the box to confirm."), "warning")
        return _back_to(event, registration)
    if not service.is_erased(registration):
        service.erase_personal_data(registration, current_user)
        flash(_("The participant's personal data has been erased."), "success")
    return _back_to(event, registration)


# --- exports ---

def _export_request(event):
    filters = service.Filters.from_args(request.args, event)
    return filters, exports.chosen_columns(request.args.getlist("columns"))


@bp.get("/events/<slug>/participants.csv")
@event_role_required(ORGANIZER)
def export_csv(event):
    filters, keys = _export_request(event)
    delimiter = ";" if request.args.get("delimiter") in (";", "semicolon") else ","
    chunks = exports.csv_chunks(event, filters, keys, current_language(), delimiter=delimiter,
                                bom=request.args.get("bom") != "0")
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{exports.export_filename(event, "csv")}"'
    return _no_store(response)


@bp.get("/events/<slug>/participants.xlsx")
@event_role_required(ORGANIZER)
def export_xlsx(event):
    filters, keys = _export_request(event)
    # Written to a file on disk and sent from there: never the whole workbook in memory.
    spool = tempfile.TemporaryFile()
    exports.write_xlsx(event, filters, keys, current_language(), spool)
    spool.seek(0)
    return _no_store(send_file(
        spool, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True, download_name=exports.export_filename(event, "xlsx")))


@bp.get("/events/<slug>/participants.pdf")
@event_role_required(ORGANIZER)
def export_pdf(event):
    filters, _keys = _export_request(event)
    spool = tempfile.TemporaryFile()
    exports.write_signin_pdf(event, filters, current_language(), spool)
    spool.seek(0)
    return _no_store(send_file(spool, mimetype="application/pdf",
                               download_name=exports.export_filename(event, "pdf")))


# --- imports ---

@bp.route("/events/<slug>/import", methods=["GET", "POST"])
@event_role_required(ORGANIZER)
def import_list(event):
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("organizer/import.html", event=event, form=form,
                               columns=_import_columns()), 422 if form.is_submitted() else 200
    upload = form.file.data
    data, filename = upload.read(), upload.filename or ""
    try:
        checked = imports.preview(event, data, filename)
    except imports.ImportRefused as refusal:
        form.file.errors = [refusal.message]
        return render_template("organizer/import.html", event=event, form=form, columns=_import_columns()), 422
    token = imports.keep_upload(event, current_user, filename, data) if checked.can_import else None
    return render_template("organizer/import_preview.html", event=event, checked=checked,
                           confirm_form=ConfirmImportForm(token=token, formdata=None),
                           labels={key: exports.COLUMNS[key].label for key in imports.IMPORT_KEYS}), \
        422 if checked.with_errors else 200


def _import_columns():
    return [(exports.COLUMNS[key].label, key in imports.REQUIRED) for key in imports.IMPORT_KEYS]


@bp.post("/events/<slug>/import/confirm")
@event_role_required(ORGANIZER)
def import_confirm(event):
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    token = form.token.data
    try:
        filename, data = imports.kept_upload(event, current_user, token)
        # Checked again: people may have signed up since the preview.
        checked = imports.preview(event, data, filename)
        added, unchanged = imports.import_rows(event, checked, current_user)
    except imports.ImportRefused as refusal:
        flash(refusal.message, "error")
        return redirect(url_for(".import_list", slug=event.slug), 303)
    imports.discard_upload(token)
    flash(_("Imported: %(added)s new participants; %(unchanged)s were registered already and left as they were.",
            added=added, unchanged=unchanged), "success")
    return redirect(url_for(".participants", slug=event.slug), 303)


@bp.get("/events/<slug>/import-template.csv")
@event_role_required(ORGANIZER)
def import_template(event):
    response = Response(imports.template_csv(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="import-template-{event.slug}.csv"'
    return response
