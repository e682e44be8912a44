import gzip
import json

from flask import current_app, jsonify, make_response, request

from ..checkin import offline, service
from ..db import utcnow
from ..extensions import csrf, limiter
from ..i18n import current_language
from . import bp
from .auth import api_error, token_required
from .openapi import openapi_document

# Bearer tokens, not cookies, authenticate here: a cross-site form cannot forge them.
csrf.exempt(bp)


def _json_body():
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _language():
    requested = request.args.get("lang") or request.accept_languages.best_match(["kk", "ru", "en"])
    return requested or current_language()


def _reply(outcome):
    return jsonify(outcome.body), outcome.status


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.post("/events/<slug>/checkins")
@token_required
def create_checkin(event, token):
    body = _json_body()
    if body is None:
        return api_error(400, "invalid_json")
    checkpoint = service.zone(event, str(body.get("checkpoint") or ""))
    if checkpoint is None:
        return api_error(404, "unknown_checkpoint")
    if not token.may_scan_at(checkpoint.id):
        return api_error(403, "token_not_for_checkpoint")
    try:
        outcome = service.check_in(
            event, str(body.get("code") or ""), checkpoint, str(body.get("scan_id") or ""),
            user_id=token.user_id, token_id=token.id,
            scanned_at=service.parse_scanned_at(body.get("scanned_at")),
            direction=str(body.get("direction") or "in"), language=_language(),
        )
    except service.ScanRefused as refused:
        return api_error(refused.status, refused.result)
    return _reply(outcome)


@bp.post("/events/<slug>/checkins/<scan_id>/undo")
@token_required
def undo_checkin(event, token, scan_id):
    return _reply(service.undo(event, scan_id, user_id=token.user_id, token_id=token.id))


@bp.get("/events/<slug>/search")
@limiter.limit(lambda: current_app.config["SEARCH_RATE_LIMIT"])
@token_required
def search(event, token):
    return jsonify(results=service.search_people(event, request.args.get("q", ""), _language()))


@bp.get("/events/<slug>/checkpoints")
@token_required
def checkpoints(event, token):
    return jsonify(checkpoints=[service.zone_card(c, _language()) for c in service.checkpoints(event)])


@bp.get("/events/<slug>/offline-data")
@token_required
def offline_data(event, token):
    try:
        since = service.parse_scanned_at(request.args.get("since"))
    except service.ScanRefused:
        return api_error(422, "invalid_since")
    body = json.dumps(offline.snapshot(event, since, _language()), ensure_ascii=False, separators=(",", ":"))
    return _compressed(body.encode())


def _compressed(data):
    """gzip for devices that accept it: the whole event's door data then fits a slow venue network."""
    response = make_response(data)
    response.mimetype = "application/json"
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.set_data(gzip.compress(data, compresslevel=6))
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


@bp.post("/events/<slug>/sync")
@token_required
def sync(event, token):
    body = _json_body()
    if body is None:
        return api_error(400, "invalid_json")
    try:
        answers = offline.sync(event, token, body.get("scans"), _language())
    except offline.SyncRefused as refused:
        return api_error(422, refused.result)
    return jsonify(results=answers, synced_at=utcnow().isoformat())
