"""Cross-cutting pages: health check, version, error pages."""
from flask import Blueprint

bp = Blueprint("core", __name__, cli_group=None)

from . import cli, views  # noqa: E402,F401
