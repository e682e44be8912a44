from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..forms import Form
from ..registration.forms import strip

DESK_SIZES = [("a6", _l("A6 badge")), ("label62", _l("62 mm label"))]


class NameForm(Form):
    """The only details the badge desk may change: the name as printed."""

    last_name = StringField(_l("Last name"), [DataRequired(message=_l("This field is required.")), Length(max=100)],
                            filters=[strip])
    first_name = StringField(_l("First name"), [DataRequired(message=_l("This field is required.")),
                                                Length(max=100)], filters=[strip])
    patronymic = StringField(_l("Patronymic"), [Optional(), Length(max=100)], filters=[strip])
    latin_name = StringField(_l("Name in Latin letters, as in your passport"), [Optional(), Length(max=200)],
                             filters=[strip])


class ReprintForm(Form):
    size = SelectField(_l("Format"), choices=[SelectChoice(value, label) for value, label in DESK_SIZES],
                       default="a6")
    reissue = BooleanField(_l("Reissue the code (the badge was lost: the old one stops working)"))
