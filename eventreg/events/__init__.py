"""Events and their configuration: regions (delegations), participant categories."""
from flask import Blueprint

bp = Blueprint("events", __name__, cli_group=None)

from . import cli, views  # noqa: E402,F401  (registers routes and commands on bp)
