"""Emails to participants, sent through an outbox so that a failed send never loses anything."""
from flask import Blueprint

bp = Blueprint("notifications", __name__, cli_group=None)

from . import cli, views  # noqa: E402,F401  (registers routes and commands on bp)
