"""Organizers' pages: the live dashboard, participant management, attendee list exports and imports."""
from flask import Blueprint

bp = Blueprint("organizer", __name__, url_prefix="/organizer", cli_group=None)

from . import cli, views  # noqa: E402,F401
