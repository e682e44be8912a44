from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Optional
from wtforms.widgets import ColorInput, TextInput

from ..forms import Form, MultiCheckboxField
from ..registration.forms import ParticipantForm, strip


class OrganizerParticipantForm(ParticipantForm):
    """The participant's details as an organizer corrects them: the same fields and checks as the
    participant's own form (the category, which decides capacity, is not changed here)."""


class ActionForm(Form):
    """A button that changes something (cancel, reissue, resend): the CSRF token is all it carries."""


class EraseForm(Form):
    confirm = BooleanField(
        _l("The person asked for their personal data to be erased. I understand that this cannot be undone."),
        [DataRequired(message=_l("Tick the box to confirm."))])


class CancelParticipantForm(Form):
    confirm = BooleanField(_l("Yes, cancel this registration"), [DataRequired(message=_l("Tick the box to confirm."))])


class ImportForm(Form):
    file = FileField(_l("Delegation list (CSV or XLSX)"),
                     [FileRequired(message=_l("Choose a file."))])
    consent_collected = BooleanField(
        _l("The sending organization holds every participant's consent to the processing of personal data "
           "(and a parent's or guardian's for minors)."),
        [DataRequired(message=_l("Imports need this confirmation."))])


class ConfirmImportForm(Form):
    token = HiddenField()


# --- event settings (settings.py checks the values; these forms only read them) ---

_NUMBER = {"inputmode": "numeric", "autocomplete": "off"}
_LOCAL_TIME = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def _required():
    return DataRequired(message=_l("This field is required."))


def _input_required():
    # Not DataRequired: it would hide "not a valid number/date" behind "required", and refuse a 0.
    return InputRequired(message=_l("This field is required."))


def _count(label, description=None, required=False):
    # A text input with a numeric keyboard: styled like every other input, and a phone shows digits.
    return IntegerField(label, [_input_required()] if required else [Optional()], widget=TextInput(),
                        render_kw=_NUMBER, description=description)


def _names():
    kazakh = StringField(_l("Name in Kazakh"), [_required()], filters=[strip])
    russian = StringField(_l("Name in Russian"), [Optional()], filters=[strip],
                          description=_l("Empty: the Kazakh name is shown."))
    english = StringField(_l("Name in English"), [Optional()], filters=[strip],
                          description=_l("Empty: the Kazakh name is shown."))
    return kazakh, russian, english


class EventSettingsForm(Form):
    name_kk, name_ru, name_en = _names()
    starts_on = DateField(_l("First day"), [_input_required()])
    ends_on = DateField(_l("Last day"), [_input_required()])
    venue = StringField(_l("Venue"), [Optional()], filters=[strip])
    timezone = StringField(_l("Time zone"), [_required()], filters=[strip],
                           description=_l("A name from the time zone database, such as Asia/Almaty."),
                           render_kw={"list": "timezones", "autocomplete": "off", "spellcheck": "false"})
    registration_opens_at = DateTimeLocalField(
        _l("Registration opens"), [Optional()], format=_LOCAL_TIME,
        description=_l("In the event's time zone. Empty: open now."))
    registration_closes_at = DateTimeLocalField(
        _l("Registration closes"), [Optional()], format=_LOCAL_TIME,
        description=_l("In the event's time zone. Empty: no closing time."))
    # The view describes it with the places taken now.
    capacity = _count(_l("Places in total"))
    minor_age = _count(_l("Age of majority"), required=True,
                       description=_l("Younger participants need a parent's or guardian's consent."))


class ItemForm(Form):
    """A region, category or checkpoint. The view removes the fields its kind does not have: the code of
    an existing region or category, the place in the list of a new item."""

    code = StringField(_l("Code"), [_required()], filters=[strip],
                       render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"})
    name_kk, name_ru, name_en = _names()
    position = _count(_l("Place in the list"), description=_l("1 is the top of the list."))


class RegionForm(ItemForm):
    pass


class CategoryForm(ItemForm):
    badge_color = StringField(_l("Badge colour"), [_required()], widget=ColorInput(), default="#1f6feb",
                              description=_l("The band of the badge and the colour the scanner shows."))
    capacity = _count(_l("Places"), description=_l("Empty: unlimited."))
    self_registration = BooleanField(_l("People may choose it on the sign-up form"), default=True)


class CheckpointForm(ItemForm):
    capacity = _count(_l("Places in the zone"), description=_l("Empty: no limit. The scanner warns near it."))
    reentry_allowed = BooleanField(_l("People may leave and come back in"), default=True)
    category_ids = MultiCheckboxField(_l("Categories admitted"), coerce=int,
                                    description=_l("None ticked: every category."))


class RemoveForm(Form):
    confirm = BooleanField(_l("Yes, remove it"), [DataRequired(message=_l("Tick the box to confirm."))])
