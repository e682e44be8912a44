from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..forms import Form


class DeviceForm(Form):
    """Pair a phone or tablet with the event: a token for one staff member, some checkpoints, one shift."""

    user = SelectField(_l("Staff member"), coerce=int)
    name = StringField(_l("Device name"), [Optional(), Length(max=100)],
                       description=_l("For example: entrance phone 2."))
    checkpoints = SelectMultipleField(_l("Checkpoints"), coerce=int,
                                      description=_l("None selected: all checkpoints."))
    hours = IntegerField(_l("Valid for (hours)"), [DataRequired(message=_l("This field is required.")),
                                                    NumberRange(min=1, max=24 * 14)], default=16)


class CheckOutZoneForm(Form):
    """End of day: everyone still inside a zone leaves it at the given local time."""

    checkpoint = SelectField(_l("Zone"), coerce=int)
    at = StringField(_l("Time (HH:MM, event time, today)"), [DataRequired(message=_l("This field is required."))],
                     render_kw={"type": "time"})
