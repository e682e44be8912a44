"""On-site check-in: checkpoints (zones), scanner tokens, the scan decision and the scanner page."""
from flask import Blueprint

bp = Blueprint("checkin", __name__, cli_group=None)

from . import cli, views  # noqa: E402,F401
