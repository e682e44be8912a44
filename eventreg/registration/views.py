from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..events.service import get_event_or_404
from ..extensions import limiter
from ..i18n import current_language
from ..notifications import service as notifications
from . import bp, service
from .forms import CancelForm, ParticipantForm, SignUpForm
from .messages import message_for
from .models import CANCELLED


def _form_data(form, **extra):
    return service.ParticipantData(
        last_name=form.last_name.data, first_name=form.first_name.data,
        patronymic=form.patronymic.data or "", latin_name=form.latin_name.data or "",
        iin=form.iin.data, birth_date=form.birth_date.data, sex=form.sex.data or None,
        phone=form.phone.data, email=form.email.data, region_id=form.region.data,
        organization=form.organization.data or "", language=form.language.data,
        guardian_name=form.guardian_name.data or "", guardian_consent=form.guardian_consent.data,
        **extra,
    )


def _show_refusal(form, error, event):
    """Put the service's refusal next to the field it concerns, or at the top of the form."""
    text = message_for(error.code, age=event.minor_age)
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [text]
    else:
        form.form_errors.append(text)


@bp.route("/events/<slug>/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGNUP_RATE_LIMIT"], methods=["POST"])
def register(slug):
    event = get_event_or_404(slug)
    language = current_language()
    form = SignUpForm()
    form.set_choices(event, language)
    if request.method == "GET":
        form.language.data = language
    state = event.registration_state()
    if state != "open":
        return render_template("registration/closed.html", event=event, state=state), (
            409 if request.method == "POST" else 200
        )
    status = 200
    if form.validate_on_submit():
        data = _form_data(form, category_id=form.category.data, consent=form.consent.data)
        queued = []

        def confirmation(registration):
            queued.extend(notifications.confirmation_rows(registration))
            return queued

        try:
            registration = service.register(event, data, accept_waitlist=form.accept_waitlist.data,
                                            along=confirmation)
        except service.RegistrationError as error:
            _show_refusal(form, error, event)
            status = 409 if error.code.startswith("duplicate") or error.code == "full" else 422
        else:
            notifications.send_soon(queued)
            return redirect(url_for(".private_page", slug=slug, secret=registration.secret, new=1), 303)
    elif form.is_submitted():
        status = 422
    operator = current_app.config["DATA_OPERATOR"] or _("the organizing committee of the event")
    return render_template("registration/form.html", event=event, form=form,
                           minor_age=event.minor_age, operator=operator), status


def _registration_or_404(slug, secret):
    event = get_event_or_404(slug)
    registration = service.get_by_secret(event, secret)
    if registration is None:
        abort(404)
    return event, registration


@bp.get("/events/<slug>/p/<secret>")
@limiter.limit(lambda: current_app.config["SECRET_PAGE_RATE_LIMIT"])
def private_page(slug, secret):
    event, registration = _registration_or_404(slug, secret)
    return render_template("registration/private.html", event=event, registration=registration,
                           just_registered=request.args.get("new") == "1")


@bp.route("/events/<slug>/p/<secret>/edit", methods=["GET", "POST"])
def edit(slug, secret):
    event, registration = _registration_or_404(slug, secret)
    if registration.status == CANCELLED:
        abort(404)
    form = ParticipantForm(obj=registration if request.method == "GET" else None)
    form.set_choices(event, current_language())
    if request.method == "GET":
        form.region.data = registration.region_id
    status = 200
    if form.validate_on_submit():
        data = _form_data(form, category_id=registration.category_id, consent=True)
        try:
            service.update_details(registration, data)
        except service.RegistrationError as error:
            _show_refusal(form, error, event)
            status = 409 if error.code.startswith("duplicate") else 422
        else:
            flash(_("Your details have been saved."), "success")
            return redirect(url_for(".private_page", slug=slug, secret=secret), 303)
    elif form.is_submitted():
        status = 422
    return render_template("registration/edit.html", event=event, registration=registration,
                           form=form, minor_age=event.minor_age), status


@bp.route("/events/<slug>/p/<secret>/cancel", methods=["GET", "POST"])
def cancel(slug, secret):
    event, registration = _registration_or_404(slug, secret)
    form = CancelForm()
    if registration.status != CANCELLED and form.validate_on_submit():
        promoted = service.cancel(registration)
        if promoted is not None:
            notifications.announce_promotions([promoted])
        flash(_("Your registration has been cancelled."), "success")
        return redirect(url_for(".private_page", slug=slug, secret=secret), 303)
    return render_template("registration/cancel.html", event=event, registration=registration,
                           form=form), 422 if form.is_submitted() else 200
