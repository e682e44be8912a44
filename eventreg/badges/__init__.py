"""Badges: the signed credential in the QR code, QR rendering, badge PDFs and the badge desk."""
from flask import Blueprint

bp = Blueprint("badges", __name__)

from . import views  # noqa: E402,F401
