"""Event settings pages: the event's details, regions, categories and checkpoints. Thin: the rules are in settings."""
from dataclasses import fields

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.access import event_role_required
from ..auth.models import ORGANIZER
from ..i18n import current_language
from ..notifications import service as notifications
from . import bp, sanitary, settings
from .forms import CategoryForm, CheckpointForm, EventSettingsForm, RegionForm, RemoveForm

# What the settings rules' refusals say, next to the field they concern.
MESSAGES = {
    "required": _l("This field is required."),
    "too_long": _l("At most %(max)s characters."),
    "out_of_range": _l("Enter a whole number from %(min)s to %(max)s."),
    "ends_before_starts": _l("The last day cannot be before the first day."),
    "closes_before_opens": _l("Registration must close after it opens."),
    "timezone_unknown": _l("Unknown time zone: enter a name such as Asia/Almaty."),
    "code_invalid": _l("Use Latin letters, digits, - and _ only."),
    "code_taken": _l("Another one in this event has this code."),
    "code_in_use": _l("The code cannot change: scans were made here, and devices and their queued scans "
                      "name the checkpoint by it."),
    "colour_invalid": _l("Enter a colour as #rrggbb, for example #1f6feb."),
    "category_unknown": _l("Choose categories of this event."),
    "region_in_use": _l("This region cannot be removed: registrations use it (%(count)s). "
                        "Rename it instead, or move those people to another region first."),
    "category_in_use": _l("This category cannot be removed: registrations use it (%(count)s). "
                          "Rename it instead."),
    "category_at_checkpoint": _l("This category cannot be removed while checkpoints admit it by name: "
                                 "%(checkpoints)s. Change their categories first."),
    "checkpoint_has_scans": _l("This checkpoint cannot be removed: scans were made there (%(count)s), and the "
                               "check-in history stays. Rename it or change the categories it admits instead."),
    "in_use": _l("It cannot be removed: something refers to it."),
    "gone": _l("It has just been removed by someone else."),
}

KINDS = {"regions": settings.REGION, "categories": settings.CATEGORY, "checkpoints": settings.CHECKPOINT}
FORMS = {settings.REGION: RegionForm, settings.CATEGORY: CategoryForm, settings.CHECKPOINT: CheckpointForm}
TITLES = {settings.REGION: _l("Regions (delegations)"), settings.CATEGORY: _l("Participant categories"),
          settings.CHECKPOINT: _l("Checkpoints")}
SAVED = {settings.REGION: _l("The region has been saved."), settings.CATEGORY: _l("The category has been saved."),
         settings.CHECKPOINT: _l("The checkpoint has been saved.")}
ADD_TITLES = {settings.REGION: _l("Add a region"), settings.CATEGORY: _l("Add a category"),
              settings.CHECKPOINT: _l("Add a checkpoint")}
REMOVED = {settings.REGION: _l("The region has been removed."),
           settings.CATEGORY: _l("The category has been removed."),
           settings.CHECKPOINT: _l("The checkpoint has been removed.")}
CODE_HINTS = {
    True: _l("Latin letters, digits, - and _. It cannot be changed later: lists, exports and import files "
             "name it by this code."),
    False: _l("Latin letters, digits, - and _. It is part of the scanner page's address."),
}
# The time zones of Kazakhstan, suggested in the time zone field (any other name may be typed).
KAZAKHSTAN_TIMEZONES = ("Asia/Almaty", "Asia/Qostanay", "Asia/Qyzylorda", "Asia/Aqtobe", "Asia/Aqtau",
                        "Asia/Atyrau", "Asia/Oral")


def _message(code, params):
    return MESSAGES[code] % params if params else str(MESSAGES[code])


def _show_refusal(form, refusal):
    """Each refusal next to its field, or above the form."""
    for name, (code, params) in refusal.errors.items():
        text = _message(code, params)
        target = form._fields.get(name) if name else None
        if target is not None:
            target.errors = list(target.errors) + [text]
        else:
            form.form_errors.append(text)


def _announce(change):
    if change.promoted:
        notifications.announce_promotions(change.promoted)
        flash(_("Places were freed. People who left the waitlist and are being told by email: %(count)s.",
                count=len(change.promoted)), "success")
    if change.over_capacity:
        flash(_("The capacity (%(capacity)s) is now under the %(confirmed)s places already confirmed. No one "
                "loses their place: new sign-ups go to the waitlist until the count is under the capacity.",
                capacity=change.capacity, confirmed=change.confirmed), "warning")


def _sanitary_policy(event):
    """The sanitary policy's enforcement as the settings page shows it (None without the feature)."""
    if not sanitary.available():
        return None
    from ..attestations import messages
    from ..attestations import status as s
    from ..attestations.service import policy_rules

    rules = policy_rules(event) or s.PolicyRules()
    return {"mode": messages.MODES[rules.mode], "declaration_required": rules.declaration_required,
            "url": url_for("attestations.policy", slug=event.slug)}


def _places_hint(confirmed):
    return _("Empty: unlimited. %(confirmed)s places are confirmed now. A lower number takes no one's place: "
             "new sign-ups wait on the waitlist until places free up.", confirmed=confirmed)


# --- the event ---

@bp.route("/events/<slug>/settings", methods=["GET", "POST"], endpoint="settings")
@event_role_required(ORGANIZER)
def event_settings(event):
    form = EventSettingsForm(obj=settings.event_values(event) if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        values = settings.EventValues(**{f.name: form[f.name].data for f in fields(settings.EventValues)})
        try:
            change = settings.update_event(event, values, current_user)
        except settings.SettingsRefused as refusal:
            _show_refusal(form, refusal)
            status = 422
        else:
            flash(_("The event's settings have been saved."), "success")
            _announce(change)
            return redirect(url_for(".settings", slug=event.slug), 303)
    elif form.is_submitted():
        status = 422
    form.capacity.description = _places_hint(event.confirmed_count)
    return render_template("organizer/settings.html", event=event, form=form, section="event",
                           sanitary_policy=_sanitary_policy(event), timezones=KAZAKHSTAN_TIMEZONES), status


# --- regions, categories, checkpoints ---

def _item_form(event, kind, row=None):
    """The form of a kind (what was posted, else the row's values), without the fields this page has not:
    the place in the list of a new item, the code of an existing region or category."""
    form_class = FORMS[kind]
    if request.method == "POST":
        form = form_class()
    else:
        form = form_class(obj=row, formdata=None)
        if row is not None:
            form.position.data = row.position + 1
            if kind is settings.CHECKPOINT:
                form.category_ids.data = [c.id for c in row.allowed_categories]
    if row is None:
        del form.position
    elif kind.code_fixed:
        del form.code
    if form.code is not None:
        form.code.description = CODE_HINTS[kind.code_fixed]
    if kind is settings.CHECKPOINT:
        language = current_language()
        form.category_ids.choices = [(c.id, c.name_in(language)) for c in settings.items(event, settings.CATEGORY)]
    if kind is settings.CATEGORY and row is not None:
        form.capacity.description = _places_hint(row.confirmed_count)
    return form


def _item_values(form):
    data = {name: f.data for name, f in form._fields.items() if name != "csrf_token"}
    if "category_ids" in data:
        data["category_ids"] = tuple(data["category_ids"] or ())
    data.setdefault("code", None)
    return settings.ItemValues(**data)


def _list_page(event, kind, kind_name, form, status=200):
    rows = settings.items(event, kind)
    return render_template(
        "organizer/settings_list.html", event=event, section=kind_name, kind_name=kind_name, title=TITLES[kind],
        add_title=ADD_TITLES[kind], rows=rows, used=settings.usage(event, kind), form=form,
        language=current_language(), sanitary_policy=_sanitary_policy(event)), status


def settings_list(event, kind_name):
    """The list of a kind, and the form that adds one."""
    kind = KINDS[kind_name]
    form = _item_form(event, kind)
    if request.method == "GET":
        return _list_page(event, kind, kind_name, form)
    if form.validate_on_submit():
        try:
            settings.add_item(event, kind, _item_values(form), current_user)
        except settings.SettingsRefused as refusal:
            _show_refusal(form, refusal)
        else:
            flash(SAVED[kind], "success")
            return redirect(url_for(f".settings_{kind_name}", slug=event.slug), 303)
    return _list_page(event, kind, kind_name, form, 422)


def _item_page(event, kind, kind_name, row, form, status=200):
    refusal = settings.removal_refusal(event, kind, row)
    return render_template(
        "organizer/settings_item.html", event=event, section=kind_name, kind_name=kind_name, title=TITLES[kind],
        row=row, form=form, remove_form=RemoveForm(formdata=None),
        refusal=_message(*refusal) if refusal else None,
        sanitary_policy=_sanitary_policy(event)), status


def settings_item(event, kind_name, item_id):
    """One region, category or checkpoint: change it, or remove it."""
    kind = KINDS[kind_name]
    row = settings.get_item(event, kind, item_id) or abort(404)
    form = _item_form(event, kind, row)
    if request.method == "GET":
        return _item_page(event, kind, kind_name, row, form)
    if form.validate_on_submit():
        try:
            change = settings.update_item(event, kind, row, _item_values(form), current_user)
        except settings.SettingsRefused as refusal:
            _show_refusal(form, refusal)
        else:
            flash(SAVED[kind], "success")
            _announce(change)
            return redirect(url_for(f".settings_{kind_name}_item", slug=event.slug, item_id=row.id), 303)
    return _item_page(event, kind, kind_name, row, form, 422)


def remove_settings_item(event, kind_name, item_id):
    kind = KINDS[kind_name]
    row = settings.get_item(event, kind, item_id) or abort(404)
    back = url_for(f".settings_{kind_name}_item", slug=event.slug, item_id=row.id)
    if not RemoveForm().validate_on_submit():
        flash(_("Tick the box to confirm."), "warning")
        return redirect(back, 303)
    try:
        revoked = settings.remove_item(event, kind, row, current_user)
    except settings.SettingsRefused as refusal:
        flash(_message(*refusal.errors[None]), "error")
        return redirect(back, 303)
    flash(REMOVED[kind], "success")
    if revoked:
        flash(_("Devices paired for this checkpoint alone can no longer scan: %(count)s.", count=revoked),
              "warning")
    return redirect(url_for(f".settings_{kind_name}", slug=event.slug), 303)


def _routes(kind_name):
    """The pages of one kind: settings_regions (the list), settings_regions_item, settings_regions_remove."""
    base = f"/events/<slug>/settings/{kind_name}"

    @event_role_required(ORGANIZER)
    def list_page(event):
        return settings_list(event, kind_name)

    @event_role_required(ORGANIZER)
    def item_page(event, item_id):
        return settings_item(event, kind_name, item_id)

    @event_role_required(ORGANIZER)
    def remove(event, item_id):
        return remove_settings_item(event, kind_name, item_id)

    bp.add_url_rule(base, f"settings_{kind_name}", list_page, methods=["GET", "POST"])
    bp.add_url_rule(f"{base}/<int:item_id>", f"settings_{kind_name}_item", item_page, methods=["GET", "POST"])
    bp.add_url_rule(f"{base}/<int:item_id>/remove", f"settings_{kind_name}_remove", remove, methods=["POST"])


for _kind_name in KINDS:
    _routes(_kind_name)
