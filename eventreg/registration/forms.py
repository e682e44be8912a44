from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, EmailField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ..events.service import event_options, full_category_ids
from ..forms import Form
from ..text import clean_line
from .messages import message_for
from .validators import ValidationFailure, normalize_phone, parse_iin

LANGUAGE_CHOICES = [SelectChoice("kk", "Қазақша"), SelectChoice("ru", "Русский"), SelectChoice("en", "English")]
SEX_CHOICES = [SelectChoice("", _l("Not specified")), SelectChoice("F", _l("Female")), SelectChoice("M", _l("Male"))]


def strip(value):
    return clean_line(value)


def valid_iin(form, field):
    if field.data and field.data.strip():
        try:
            parse_iin(field.data)
        except ValidationFailure as failure:
            raise ValidationError(message_for(failure.code)) from None


def valid_phone(form, field):
    try:
        field.data = normalize_phone(field.data)
    except ValidationFailure as failure:
        raise ValidationError(message_for(failure.code)) from None


def _required():
    return DataRequired(message=_l("This field is required."))


class ParticipantForm(Form):
    """The participant's own details: used to sign up and to correct them later."""

    last_name = StringField(_l("Last name"), [_required(), Length(max=100)], filters=[strip],
                            render_kw={"autocomplete": "family-name"})
    first_name = StringField(_l("First name"), [_required(), Length(max=100)], filters=[strip],
                             render_kw={"autocomplete": "given-name"})
    patronymic = StringField(_l("Patronymic"), [Optional(), Length(max=100)], filters=[strip],
                             render_kw={"autocomplete": "additional-name"})
    latin_name = StringField(
        _l("Name in Latin letters, as in your passport"), [Optional(), Length(max=200)], filters=[strip],
        description=_l("For international badges. Leave empty if you have no passport."),
    )
    iin = StringField(
        _l("IIN"), [Optional(), valid_iin], filters=[strip],
        description=_l("Individual identification number: 12 digits. Citizens and residents of Kazakhstan."),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 14},
    )
    birth_date = DateField(_l("Date of birth"), [DataRequired(message=_l("Enter your date of birth."))],
                           render_kw={"autocomplete": "bday"})
    sex = SelectField(_l("Sex"), choices=SEX_CHOICES, validators=[Optional()],
                      description=_l("Not needed if you give your IIN."))
    phone = TelField(_l("Mobile phone"), [_required(), valid_phone], filters=[strip],
                     render_kw={"autocomplete": "tel", "placeholder": "+7 7XX XXX XX XX"})
    email = EmailField(_l("Email"), [_required(), Email(message=_l("Enter a valid email address."),
                                                        check_deliverability=False), Length(max=254)],
                       filters=[strip], render_kw={"autocomplete": "email"})
    region = SelectField(_l("Region (delegation)"), coerce=int,
                         validators=[DataRequired(message=_l("Choose your region from the list."))])
    organization = StringField(_l("Organization"), [Optional(), Length(max=300)], filters=[strip],
                               description=_l("Volunteer group, school, university or employer."))
    language = SelectField(_l("Preferred language"), choices=LANGUAGE_CHOICES)
    guardian_name = StringField(_l("Parent or guardian: full name"), [Optional(), Length(max=200)], filters=[strip])
    guardian_consent = BooleanField(_l("I am the parent or guardian and I consent to this participation "
                                       "and to the processing of the participant's personal data."))

    def set_choices(self, event, language):
        self.region.choices = [SelectChoice(0, "—")] + [
            SelectChoice(r.id, r.name_in(language)) for r in event_options(event).regions
        ]


class SignUpForm(ParticipantForm):
    category = SelectField(_l("I take part as"), coerce=int,
                           validators=[DataRequired(message=_l("Choose a participant category from the list."))])
    consent = BooleanField(_l("I consent to the processing of my personal data as described above."))
    accept_waitlist = BooleanField(_l("If all places are taken, put me on the waitlist"), default=True)

    def set_choices(self, event, language):
        super().set_choices(event, language)
        # A full category says so before the person chooses it (a full event says it above the form).
        full = set() if event.is_full else full_category_ids(event)
        self.category.choices = [
            SelectChoice(c.id, _("%(category)s (no places left: waitlist)", category=c.name_in(language))
                         if c.id in full else c.name_in(language))
            for c in event_options(event).categories if c.self_registration
        ]


class CancelForm(Form):
    confirm = BooleanField(_l("Yes, cancel my registration"), [DataRequired(message=_l("Tick the box to confirm."))])
