"""On-site check-in: checkpoints (zones) and scans."""
from flask import Blueprint

bp = Blueprint("checkin", __name__)
