from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms import Form, MultiCheckboxField
from . import messages
from . import status as s


def _required():
    return DataRequired(message=_l("This field is required."))


class EvidenceForm(Form):
    kind = SelectField(_l("Kind of document"), validators=[_required()])
    taken_on = DateField(_l("Date of the dose, test sample or certificate"), [_required()])
    taken_time = TimeField(_l("Time the sample was taken (PCR test)"), [Optional()],
                           description=_l("Local time at the place of the test, as on the result."))
    certificate_number = StringField(_l("Certificate number"), [Optional(), Length(max=64)],
                                     description=_l("If the document has one."))
    # The description names the size limit, a setting: the view fills it in.
    document = FileField(_l("The document"))

    def set_choices(self, kinds):
        self.kind.choices = [SelectChoice(kind, messages.KINDS[kind]) for kind in s.KINDS if kind in kinds]


class DeclarationForm(Form):
    no_symptoms = BooleanField(_l("I have no fever, cough or other symptoms of an infection today."))
    no_contact = BooleanField(_l("I have had no contact with a confirmed case in the last 14 days."))
    temperature = DecimalField(
        _l("Body temperature, °C"), [InputRequired(message=_l("This field is required.")),
                                     NumberRange(34, 43, message=_l("Enter a temperature such as 36.6."))],
        places=1, render_kw={"inputmode": "decimal", "step": "0.1"})


class PolicyForm(Form):
    mode = SelectField(_l("Enforcement at the entrance"), choices=[SelectChoice(m, messages.MODES[m]) for m in s.MODES])
    kinds = MultiCheckboxField(_l("Accepted documents"), choices=[SelectChoice(k, messages.KINDS[k]) for k in s.KINDS],
                               description=_l("None ticked: no document is needed, only the declaration."))
    pcr_hours = IntegerField(_l("Negative PCR test valid for (hours from the sample)"), [NumberRange(1, 24 * 30)])
    first_dose_days = IntegerField(_l("First vaccine dose valid for (days)"), [NumberRange(1, 3650)])
    full_course_days = IntegerField(_l("Full vaccination course valid for (days)"), [NumberRange(1, 3650)])
    recovery_days = IntegerField(_l("Recovery valid for (days)"), [NumberRange(1, 3650)])
    declaration_required = BooleanField(_l("A same-day health declaration is required"))
    max_temperature = DecimalField(_l("Temperature must be under (°C)"), [NumberRange(35, 40)], places=1)
    expiring_soon_hours = IntegerField(_l("Warn when documents expire within (hours)"), [NumberRange(0, 24 * 60)])


class ReviewForm(Form):
    reason = TextAreaField(_l("Reason, if not accepted (the participant will read it)"), [Length(max=500)])


class OverrideForm(Form):
    reason = TextAreaField(_l("Why this person may enter"), [_required(), Length(min=5, max=500)])
