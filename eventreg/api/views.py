import gzip
import json

from flask import current_app, jsonify, make_response, request
from sqlalchemy.exc import OperationalError

from ..checkin import offline, service
from ..core.security import url_has_nul
from ..db import utcnow
from ..extensions import csrf, db, limiter
from ..i18n import current_language
from . import bp
from .auth import api_error, token_rechecked_by_the_scan, token_required
from .openapi import openapi_document

# Bearer tokens, not cookies, authenticate here: a cross-site form cannot forge them.
csrf.exempt(bp)

SEARCH_MAX_LENGTH = 100
_SCAN_TEXT_FIELDS = ("scan_id", "code", "checkpoint")


@bp.before_request
def refuse_nul():
    """A URL with a NUL character is refused before the database fails on it (see core.security)."""
    if url_has_nul():
        return api_error(400, "invalid_request")


@bp.errorhandler(OperationalError)
def database_unavailable(error):
    """JSON, not the HTML page: a scanner reads the 503, queues the scan and retries later."""
    current_app.logger.warning("database unavailable: %s", error.__class__.__name__)
    db.session.rollback()
    response, status = api_error(503, "unavailable")
    response.headers["Retry-After"] = "5"
    return response, status


@bp.errorhandler(500)
def server_error(_error):
    return api_error(500, "server_error")


def _json_body():
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _storable(value):
    """A JSON string that the database can store: valid Unicode (JSON lets a client send a lone
    surrogate such as \\ud800, which has no UTF-8) and no NUL (PostgreSQL text cannot hold it)."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _malformed_scan(scan, *, time_required):
    """Why a scan is not shaped as the OpenAPI document says, or None. What its values mean (the
    code, the checkpoint, the scan_id's length, the time) is for the check-in to judge."""
    if not isinstance(scan, dict) or not all(_storable(scan.get(name)) for name in _SCAN_TEXT_FIELDS):
        return "invalid_scan"
    if scan.get("direction", "in") not in ("in", "out"):
        return "invalid_direction"
    if ("scanned_at" in scan or time_required) and not (isinstance(scan.get("scanned_at"), str)
                                                        and scan["scanned_at"]):
        return "invalid_scanned_at"
    return None


def _language():
    requested = request.args.get("lang") or request.accept_languages.best_match(["kk", "ru", "en"])
    return requested or current_language()


def _reply(outcome):
    return jsonify(outcome.body), outcome.status


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.post("/events/<slug>/checkins")
@token_rechecked_by_the_scan
def create_checkin(event, token, known):
    body = _json_body()
    if body is None:
        return api_error(400, "invalid_json")
    malformed = _malformed_scan(body, time_required=False)
    if malformed:
        return api_error(422, malformed)
    if body["scan_id"] != body["scan_id"].strip():
        # The device's own id, taken as sent: the check-in would trim it, so a padded one is refused.
        return api_error(422, "invalid_scan_id")
    checkpoint = service.zone(event, body["checkpoint"])
    if checkpoint is None:
        return api_error(404, "unknown_checkpoint")
    if not token.may_scan_at(checkpoint.id):
        return api_error(403, "token_not_for_checkpoint")
    try:
        outcome = service.check_in(
            event, body["code"], checkpoint, body["scan_id"], user_id=token.user_id, token_id=token.id,
            scanned_at=service.parse_scanned_at(body.get("scanned_at")),
            direction=body.get("direction", "in"), language=_language(), known=known,
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
    query = request.args.get("q")
    if query is None or len(query) > SEARCH_MAX_LENGTH:
        return api_error(422, "invalid_query")
    return jsonify(results=service.search_people(event, query, _language()))


@bp.get("/events/<slug>/checkpoints")
@token_required
def checkpoints(event, token):
    return jsonify(checkpoints=[service.zone_card(c, _language()) for c in service.checkpoints(event)])


@bp.get("/events/<slug>/offline-data")
@token_required
def offline_data(event, token):
    text = request.args.get("since")
    try:
        if text == "":  # a cursor lost on the way, not a request for everything
            raise service.ScanRefused(422, "invalid_since")
        since = service.parse_scanned_at(text)
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
    scans = body.get("scans")
    # One malformed scan refuses the batch: the device's code is wrong, and guessing could count it wrongly.
    malformed = isinstance(scans, list) and next(
        filter(None, (_malformed_scan(scan, time_required=True) for scan in scans)), None)
    if malformed:
        return api_error(422, malformed)
    try:
        answers = offline.sync(event, token, scans, _language())
    except offline.SyncRefused as refused:
        return api_error(422, refused.result)
    return jsonify(results=answers, synced_at=utcnow().isoformat())
