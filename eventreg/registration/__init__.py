"""Online registration: the public sign-up form and the participant's private page."""
from flask import Blueprint

bp = Blueprint("registration", __name__)

from . import views  # noqa: E402,F401
