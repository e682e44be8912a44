"""Pages of sanitary attestations: the participant's documents and declaration, the staff declaration,
the organizer's policy, review queue and override. Thin: the rules are in service and status."""
from decimal import Decimal

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import event_role_required, has_role
from ..auth.models import ORGANIZER, STAFF
from ..events.service import get_event_or_404
from ..notifications import service as notifications
from ..registration.models import CANCELLED
from ..registration.service import get_by_secret
from . import bp, messages, service
from . import status as s
from .forms import DeclarationForm, EvidenceForm, OverrideForm, PolicyForm, ReviewForm


def _registration_or_404(slug, secret):
    event = get_event_or_404(slug)
    registration = get_by_secret(event, secret)
    if registration is None:
        abort(404)
    return event, registration


def _show_refusal(form, error):
    text = messages.error_text(error.code, **error.params)
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [text]
    else:
        form.form_errors.append(text)


def _local_time(event, moment):
    return messages.local_time(moment, event.tz) if moment else ""


@bp.app_context_processor
def _template_helpers():
    return {"sanitary_summary": sanitary_summary}


def sanitary_summary(event, registration):
    """What the private page shows of the sanitary status (None when the event checks nothing)."""
    if not service.checks_documents(event) or registration.status == CANCELLED:
        return None
    status = service.status_for(registration)
    return {
        "status": status,
        "state": messages.STATES[status.state],
        "text": messages.describe(status, event.tz),
        "valid_until": _local_time(event, status.valid_until),
        "needs": status.needs,
        "evidence": service.evidence_of(registration),
        "kinds": messages.KINDS,
        "review": messages.REVIEW,
        "declaration_required": service.policy_rules(event).declaration_required,
        "local_time": lambda moment: _local_time(event, moment),
    }


# --- participant ---------------------------------------------------------------------------------

@bp.route("/events/<slug>/p/<secret>/evidence", methods=["GET", "POST"])
def add_evidence(slug, secret):
    event, registration = _registration_or_404(slug, secret)
    if registration.status == CANCELLED:
        abort(404)
    rules = service.policy_rules(event) or s.PolicyRules()
    form = EvidenceForm()
    form.set_choices(rules.accepted_kinds or s.KINDS)
    limit_mb = current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024)
    form.document.description = _("PDF, JPEG or PNG, at most %(limit)s MB.", limit=limit_mb)
    status = 200
    if form.validate_on_submit():
        upload = form.document.data
        try:
            service.add_evidence(
                registration, kind=form.kind.data, taken_on=form.taken_on.data, taken_time=form.taken_time.data,
                certificate_number=form.certificate_number.data, file=upload.stream if upload else None,
                filename=upload.filename if upload else "")
        except service.AttestationError as error:
            _show_refusal(form, error)
            status = 422
        else:
            flash(_("Thank you: your document has been sent for review."), "success")
            return redirect(url_for("registration.private_page", slug=slug, secret=secret), 303)
    elif form.is_submitted():
        status = 422
    return render_template("attestations/evidence_form.html", event=event, registration=registration,
                           form=form, back=url_for("registration.private_page", slug=slug, secret=secret)), status


@bp.get("/events/<slug>/p/<secret>/evidence/<int:evidence_id>")
def participant_file(slug, secret, evidence_id):
    event, registration = _registration_or_404(slug, secret)
    evidence = service.get_evidence(event, evidence_id, registration) or abort(404)
    return _send_evidence(evidence)


def _declaration_page(event, registration, *, user_id, done_url, template_extra):
    form = DeclarationForm()
    status = 200
    if form.validate_on_submit():
        try:
            service.declare(registration, no_symptoms=form.no_symptoms.data, no_contact=form.no_contact.data,
                            temperature=form.temperature.data, user_id=user_id)
        except service.AttestationError as error:
            _show_refusal(form, error)
            status = 422
        else:
            flash(_("The health declaration has been saved."), "success")
            return redirect(done_url, 303)
    elif form.is_submitted():
        status = 422
    if request.method == "GET" and form.temperature.data is None:
        form.temperature.data = Decimal("36.6")
    return render_template("attestations/declaration.html", event=event, registration=registration, form=form,
                           **template_extra), status


@bp.route("/events/<slug>/p/<secret>/declaration", methods=["GET", "POST"])
def declaration(slug, secret):
    event, registration = _registration_or_404(slug, secret)
    if registration.status == CANCELLED:
        abort(404)
    back = url_for("registration.private_page", slug=slug, secret=secret)
    return _declaration_page(event, registration, user_id=None, done_url=back, template_extra={"back": back})


# --- staff at the entrance ----------------------------------------------------------------------------

@bp.route("/checkin/<slug>/declaration/<reference>", methods=["GET", "POST"])
@event_role_required(STAFF)
def staff_declaration(event, reference):
    registration = service.find_by_reference(event, reference) or abort(404)
    if registration.status == CANCELLED:
        abort(404)
    here = url_for(".staff_declaration", slug=event.slug, reference=registration.reference)
    status = service.status_for(registration)
    return _declaration_page(event, registration, user_id=current_user.id, done_url=here, template_extra={
        "staff": True, "state": messages.STATES[status.state], "text": messages.describe(status, event.tz),
        "status": status})


# --- organizer ------------------------------------------------------------------------------------

@bp.route("/organizer/events/<slug>/sanitary-policy", methods=["GET", "POST"])
@event_role_required(ORGANIZER)
def policy(event):
    current = service.get_policy(event) or service.default_policy(event)
    form = PolicyForm(obj=current if request.method == "GET" else None)
    if request.method == "GET":
        form.kinds.data = list(current.kinds)
        form.max_temperature.data = Decimal(str(current.max_temperature))
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in service.POLICY_FIELDS}
        values["max_temperature"] = float(values["max_temperature"])
        values["kinds"] = form.kinds.data or []
        service.update_policy(event, values, user_id=current_user.id)
        flash(_("The sanitary policy has been saved."), "success")
        return redirect(url_for(".policy", slug=event.slug), 303)
    return render_template("attestations/policy.html", event=event, form=form), 422 if form.errors else 200


REVIEW_FILTERS = (s.PENDING, s.APPROVED, s.REJECTED, "all")


@bp.get("/organizer/events/<slug>/evidence")
@event_role_required(ORGANIZER)
def queue(event):
    shown = request.args.get("status", s.PENDING)
    if shown not in REVIEW_FILTERS:
        shown = s.PENDING
    items = service.review_queue(event, None if shown == "all" else shown)
    return render_template("attestations/queue.html", event=event, items=items, shown=shown,
                           filters=REVIEW_FILTERS, kinds=messages.KINDS, review=messages.REVIEW,
                           local_time=lambda moment: _local_time(event, moment), form=ReviewForm())


@bp.get("/organizer/events/<slug>/evidence/<int:evidence_id>/file")
def organizer_file(slug, evidence_id):
    # 403 rather than a login redirect: the file is shown inside the review page, never linked to alone.
    event = get_event_or_404(slug)
    if not has_role(current_user, event, ORGANIZER):
        abort(403)
    evidence = service.get_evidence(event, evidence_id) or abort(404)
    return _send_evidence(evidence)


@bp.post("/organizer/events/<slug>/evidence/<int:evidence_id>/review")
@event_role_required(ORGANIZER)
def review(event, evidence_id):
    evidence = service.get_evidence(event, evidence_id) or abort(404)
    form = ReviewForm()
    decision = request.form.get("decision")
    back = url_for(".queue", slug=event.slug, status=request.args.get("status", s.PENDING))
    if decision not in ("approve", "reject") or not form.validate_on_submit():
        flash(_("Choose to accept or not accept the document."), "error")
        return redirect(back, 303)
    try:
        reviewed = service.review(evidence, approve=decision == "approve", reason=form.reason.data,
                                  user_id=current_user.id)
    except service.AttestationError as error:
        flash(messages.error_text(error.code), "error")
    else:
        notifications.announce_review(reviewed.registration, accepted=decision == "approve",
                                      reason=reviewed.reject_reason)
        flash(_("Document accepted.") if decision == "approve" else _("Document not accepted."), "success")
    return redirect(back, 303)


@bp.route("/organizer/events/<slug>/participants/<reference>/override", methods=["GET", "POST"])
@event_role_required(ORGANIZER)
def override(event, reference):
    registration = service.find_by_reference(event, reference) or abort(404)
    form = OverrideForm()
    status = service.status_for(registration)
    code = 200
    if form.validate_on_submit():
        try:
            granted = service.grant_override(event, registration, form.reason.data, user_id=current_user.id)
        except service.AttestationError as error:
            _show_refusal(form, error)
            code = 422
        else:
            flash(_("%(name)s may enter once until %(time)s.", name=registration.full_name,
                    time=_local_time(event, granted.expires_at)), "success")
            return redirect(url_for(".override", slug=event.slug, reference=registration.reference), 303)
    elif form.is_submitted():
        code = 422
    return render_template("attestations/override.html", event=event, registration=registration, form=form,
                           state=messages.STATES[status.state], text=messages.describe(status, event.tz)), code


def _send_evidence(evidence):
    """The document as it was uploaded, with headers that keep a browser from running anything in it."""
    path = service.evidence_path(evidence)
    if not path.is_file():
        abort(404)
    download = request.args.get("download") == "1"
    response = send_file(path, mimetype=evidence.content_type, as_attachment=download,
                         download_name=f"document-{evidence.id}.{evidence.extension}", max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Sandboxed like a foreign origin: a crafted file cannot script this site. Framed only by our review page.
    response.headers["Content-Security-Policy"] = "sandbox; frame-ancestors 'self'"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "private, no-store"
    return response
