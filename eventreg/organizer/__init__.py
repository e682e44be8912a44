"""Organizers' pages: the live dashboard, participant management, attendee list exports and imports, event settings."""
from flask import Blueprint

bp = Blueprint("organizer", __name__, url_prefix="/organizer", cli_group=None)

from . import cli, settings_views, views  # noqa: E402,F401
