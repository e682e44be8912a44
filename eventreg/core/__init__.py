"""Cross-cutting pages: health check, version, error pages."""
from flask import Blueprint

bp = Blueprint("core", __name__)

from . import views  # noqa: E402,F401
