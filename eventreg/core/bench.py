"""Endpoints that exist only for bench/checkin.py (BENCH_ENDPOINTS=1): never enabled otherwise.

The floor a check-in is measured against: one indexed SELECT and one INSERT through the ORM,
behind the same server, with the same write transaction.
"""
from flask import Blueprint, jsonify, request

from ..audit import AuditEntry
from ..db import write_transaction
from ..events.service import get_event_or_404
from ..extensions import csrf, db
from ..registration.models import Registration

bp = Blueprint("bench", __name__, url_prefix="/bench")
csrf.exempt(bp)


@bp.post("/<slug>/floor")
def floor(slug):
    event = get_event_or_404(slug)
    reference = (request.get_json(silent=True) or {}).get("reference", "")
    with write_transaction():
        registration_id = db.session.execute(
            db.select(Registration.id).filter_by(event_id=event.id, reference=reference)
        ).scalar_one_or_none()
        db.session.add(AuditEntry(event_id=event.id, action="bench", registration_id=registration_id))
    return jsonify(result="ok", registration_id=registration_id), 201
