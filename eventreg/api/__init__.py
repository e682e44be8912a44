"""The JSON API for scanner apps and the scanner page: /api/v1, bearer tokens, OpenAPI at /api/v1/openapi.json."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import views  # noqa: E402,F401
