"""Organizers' pages: the live dashboard, participant management, attendee list exports and imports."""
from flask import Blueprint

bp = Blueprint("organizer", __name__, url_prefix="/organizer")

from . import views  # noqa: E402,F401
