from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired

from ..forms import Form
from ..registration.forms import ParticipantForm


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
