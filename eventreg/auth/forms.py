from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from ..forms import Form


class LoginForm(Form):
    email = EmailField(_l("Email"), [DataRequired(message=_l("This field is required."))],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), [DataRequired(message=_l("This field is required."))],
                             render_kw={"autocomplete": "current-password"})
