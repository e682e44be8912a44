"""Sanitary attestations: the event's policy, participants' evidence and declarations, review, the status."""
from flask import Blueprint

bp = Blueprint("attestations", __name__)

from . import views  # noqa: E402,F401
