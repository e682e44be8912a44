"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""


def _refusal(*results):
    """An answer that only says why, as {"result": one of results}."""
    return {"type": "object", "properties": {"result": {"type": "string", "enum": list(results)}},
            "required": ["result"]}


# What a decided scan can answer; a synced scan may also be a conflict (with the reason).
SCAN_RESULTS = ["ok", "already_checked_in", "unknown_code", "not_allowed_here", "cancelled", "not_confirmed",
                "not_inside", "attestation_required"]

_PARTICIPANT = {
    "type": "object",
    "description": "What the door sees: never the full IIN, the phone or the email.",
    "properties": {
        "name": {"type": "string"}, "reference": {"type": "string"}, "category": {"type": "string"},
        "category_color": {"type": "string"}, "region": {"type": "string"},
        "iin_masked": {"type": "string"}, "status": {"type": "string"},
    },
}
_ZONE = {
    "type": "object",
    "properties": {"code": {"type": "string"}, "name": {"type": "string"}, "headcount": {"type": "integer"},
                   "capacity": {"type": ["integer", "null"]}, "near_capacity": {"type": "boolean"}},
    "required": ["code", "headcount"],
}
_SCAN_ANSWER = {
    "type": "object",
    "properties": {
        "result": {"type": "string", "enum": SCAN_RESULTS},
        "reason": {"type": "string", "description": "Why a code is unknown (malformed, bad_signature, unknown, "
                                                    "reissued...) or, for a conflict, what it is"},
        "scan_id": {"type": "string"}, "checkpoint": {"type": "string"},
        "direction": {"type": "string", "enum": ["in", "out"]},
        "checked_in_at": {"type": "string", "format": "date-time"},
        "participant": _PARTICIPANT,
        "first": {"type": ["object", "null"], "description": "The earlier check-in, for already_checked_in",
                  "properties": {"at": {"type": "string", "format": "date-time"}, "time": {"type": "string"},
                                 "checkpoint": {"type": "string"}, "by": {"type": "string"}}},
        "zone": _ZONE,
        "sanitary": {"type": "object", "description": "Sanitary status at entry, when the event checks it",
                     "properties": {"state": {"type": "string", "enum": ["valid", "expiring_soon", "pending_review",
                                                                       "missing", "expired", "rejected"]},
                                    "reason": {"type": "string"}, "text": {"type": "string"},
                                    "valid_until": {"type": ["string", "null"], "format": "date-time"},
                                    "warning": {"type": "boolean", "description": "Let in, but show amber"},
                                    "override": {"type": "boolean",
                                                 "description": "Let in by an organizer's one-time override"}}},
    },
    "required": ["result"],
}
_SYNCED_ANSWER = {**_SCAN_ANSWER, "properties": {
    **_SCAN_ANSWER["properties"], "result": {"type": "string", "enum": [*SCAN_RESULTS, "conflict"]}}}


def _answer(description, schema, headers=None):
    answer = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        answer["headers"] = {name: {"required": True, "schema": {"type": "string"}} for name in headers}
    return answer


# PostgreSQL text cannot hold NUL, and nothing of ours has one: a text with NUL is refused.
_NO_NUL = "^[^\\u0000]*$"


def _text(**keywords):
    return {"type": "string", "pattern": _NO_NUL, **keywords}


_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}
_UNAUTHORIZED = _answer("No valid token for this event (unknown, revoked, expired, outside its shift)",
                        _refusal("unauthorized"), headers=["WWW-Authenticate"])
_UNAVAILABLE = _answer("The database is unavailable for a moment (restarting, or busy for too long): retry "
                       "after Retry-After seconds; a scanner queues the scan meanwhile",
                       _refusal("unavailable"), headers=["Retry-After"])


def _responses(bad_body=False, **answers):
    """Every operation can also answer 400 (a NUL in the URL), 401 (token) and 503 (database unavailable)."""
    bad_request = _answer("invalid_request: a NUL character in the URL" + (
        "; invalid_json: the body is not a JSON object" if bad_body else ""),
        _refusal("invalid_request", *(["invalid_json"] if bad_body else [])))
    return {"400": bad_request, **{status.lstrip("_"): answer for status, answer in answers.items()},
            "401": _UNAUTHORIZED, "503": _UNAVAILABLE}


def openapi_document():
    return {
        "openapi": "3.1.0",
        "info": {"title": "eventreg check-in API", "version": "1"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/events/{slug}/checkins": {"post": {
                "summary": "Check a badge in (or out) at a checkpoint",
                "description": "Idempotent by scan_id: resending a scan returns the first answer unchanged.",
                "parameters": [_SLUG],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["code", "checkpoint", "scan_id"],
                    "properties": {
                        "code": _text(description="The badge QR text, or the 8-letter reference"),
                        "checkpoint": _text(),
                        "scan_id": {"type": "string", "minLength": 8, "maxLength": 64,
                                    "pattern": "^[^\\s\\u0000]([^\\u0000]*[^\\s\\u0000])?$",
                                    "description": "Made by the device, e.g. a UUID; taken as sent, so without "
                                                   "spaces around it"},
                        "scanned_at": {"type": "string", "format": "date-time"},
                        "direction": {"type": "string", "enum": ["in", "out"], "default": "in"},
                    },
                }}}},
                "responses": _responses(
                    bad_body=True,
                    _201=_answer("Checked in (or out)", _SCAN_ANSWER),
                    _403=_answer("cancelled, not_confirmed, not_allowed_here, attestation_required (sanitary "
                                 "status not valid, see sanitary); token_not_for_checkpoint",
                                 {"anyOf": [_SCAN_ANSWER, _refusal("token_not_for_checkpoint")]}),
                    _404=_answer("unknown_code (with the reason); unknown_checkpoint",
                                 {"anyOf": [_SCAN_ANSWER, _refusal("unknown_checkpoint")]}),
                    _409=_answer("already_checked_in (with when, where, by whom) or not_inside", _SCAN_ANSWER),
                    _422=_answer("The scan is not shaped as described (invalid_scan: code, checkpoint or "
                                 "scan_id missing, not a string, or not valid Unicode), or its scan_id, "
                                 "scanned_at or direction cannot be used",
                                 _refusal("invalid_scan", "invalid_scan_id", "invalid_scanned_at",
                                          "invalid_direction")),
                ),
            }},
            "/api/v1/events/{slug}/checkins/{scan_id}/undo": {"post": {
                "summary": "Undo a check-in made by this device within two minutes",
                "parameters": [_SLUG, {"name": "scan_id", "in": "path", "required": True,
                                       "schema": {"type": "string", "maxLength": 64}}],
                "responses": _responses(
                    _200=_answer("Undone: the person is back where they were", {
                        **_refusal("undone"), "properties": {"result": {"type": "string", "enum": ["undone"]},
                                                             "scan_id": {"type": "string"}}}),
                    _403=_answer("Not this device's scan, or too late", _refusal("undo_not_allowed")),
                    _404=_answer("No such check-in", _refusal("unknown_scan")),
                ),
            }},
            "/api/v1/events/{slug}/search": {"get": {
                "summary": "Find people by name, reference, phone or full IIN",
                "parameters": [_SLUG, {"name": "q", "in": "query", "required": True,
                                       "schema": _text(maxLength=100)}],
                "responses": _responses(
                    _200=_answer("Matches (none for fewer than two characters)", {
                        "type": "object", "required": ["results"],
                        "properties": {"results": {"type": "array", "items": _PARTICIPANT}}}),
                    _422=_answer("No q, or longer than 100 characters", _refusal("invalid_query")),
                ),
            }},
            "/api/v1/events/{slug}/offline-data": {"get": {
                "summary": "What a scanning device keeps to decide without the network",
                "description": "Everything, or with `since` (the `cursor` of an earlier download) what changed. "
                               "Per badge: registration id `i`, badge generation `g`, salted reference hash `r`, "
                               "name `n`, category `c`, region `rg`, status `s`, zone `z`, once-only checkpoints "
                               "entered `e`, sanitary state `ss` and end of validity `sv`. Never the IIN, phone "
                               "or email, never a badge code: codes are checked with `event.public_key` (Ed25519).",
                "parameters": [_SLUG, {"name": "since", "in": "query", "required": False,
                                       "schema": {"type": "string", "format": "date-time"}}],
                "responses": _responses(
                    _200=_answer("The door's data (gzip when accepted)", {"type": "object", "properties": {
                        "cursor": {"type": "string"}, "full": {"type": "boolean"}, "event": {"type": "object"},
                        "checkpoints": {"type": "array"}, "sanitary": {"type": "object"},
                        "badges": {"type": "array", "items": {"type": "object"}}}}),
                    _422=_answer("since is empty or not a date-time with a timezone", _refusal("invalid_since")),
                ),
            }},
            "/api/v1/events/{slug}/sync": {"post": {
                "summary": "Send scans made offline, oldest first; idempotent by scan_id",
                "description": "Each scan is applied at the time it was made. Two devices that let one person "
                               "in while offline: the earliest scan is kept, the other is a conflict; a badge "
                               "cancelled or reissued meanwhile is a conflict. Sending a batch again changes "
                               "nothing and returns the same answers.",
                "parameters": [_SLUG],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["scans"],
                    "properties": {"scans": {"type": "array", "maxItems": 2000, "items": {
                        "type": "object", "required": ["scan_id", "code", "checkpoint", "scanned_at"],
                        "properties": {"scan_id": _text(), "code": _text(), "checkpoint": _text(),
                                       "scanned_at": {"type": "string", "format": "date-time"},
                                       "direction": {"type": "string", "enum": ["in", "out"]}}}}},
                }}}},
                "responses": _responses(
                    bad_body=True,
                    _200=_answer("One answer per scan, in the order sent (result ok, a door's answer, or "
                                 "conflict with its reason)", {
                                     "type": "object", "required": ["results", "synced_at"],
                                     "properties": {"results": {"type": "array", "items": _SYNCED_ANSWER},
                                                    "synced_at": {"type": "string", "format": "date-time"}}}),
                    _422=_answer("Not a list of at most 2000 scans (invalid_batch), or a scan not shaped as "
                                 "described: nothing of the batch is applied",
                                 _refusal("invalid_batch", "invalid_scan", "invalid_scanned_at",
                                          "invalid_direction")),
                ),
            }},
            "/api/v1/events/{slug}/checkpoints": {"get": {
                "summary": "Checkpoints with their live headcounts",
                "parameters": [_SLUG],
                "responses": _responses(_200=_answer("Checkpoints", {
                    "type": "object", "required": ["checkpoints"],
                    "properties": {"checkpoints": {"type": "array", "items": _ZONE}}})),
            }},
        },
    }
