"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""

_ERROR = {"type": "object", "properties": {"result": {"type": "string"}}, "required": ["result"]}
_PARTICIPANT = {
    "type": "object",
    "description": "What the door sees: never the full IIN, the phone or the email.",
    "properties": {
        "name": {"type": "string"}, "reference": {"type": "string"}, "category": {"type": "string"},
        "category_color": {"type": "string"}, "region": {"type": "string"},
        "iin_masked": {"type": "string"}, "status": {"type": "string"},
    },
}
_SCAN_ANSWER = {
    "type": "object",
    "properties": {
        "result": {"type": "string", "enum": ["ok", "already_checked_in", "unknown_code", "not_allowed_here",
                                              "cancelled", "not_confirmed", "not_inside",
                                              "attestation_required"]},
        "scan_id": {"type": "string"}, "checkpoint": {"type": "string"},
        "participant": _PARTICIPANT,
        "first": {"type": ["object", "null"], "description": "The earlier check-in, for already_checked_in",
                  "properties": {"at": {"type": "string", "format": "date-time"}, "time": {"type": "string"},
                                 "checkpoint": {"type": "string"}, "by": {"type": "string"}}},
        "zone": {"type": "object", "properties": {"code": {"type": "string"}, "headcount": {"type": "integer"},
                                                  "capacity": {"type": ["integer", "null"]},
                                                  "near_capacity": {"type": "boolean"}}},
        "reason": {"type": "string"},
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


def _answer(description, schema=None):
    return {"description": description, "content": {"application/json": {"schema": schema or _ERROR}}}


_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}
_UNAUTHORIZED = _answer("No valid token for this event (unknown, revoked, expired, outside its shift)")


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
                        "code": {"type": "string", "description": "The badge QR text, or the 8-letter reference"},
                        "checkpoint": {"type": "string"},
                        "scan_id": {"type": "string", "minLength": 8, "maxLength": 64,
                                    "description": "Made by the device, e.g. a UUID"},
                        "scanned_at": {"type": "string", "format": "date-time"},
                        "direction": {"type": "string", "enum": ["in", "out"], "default": "in"},
                    },
                }}}},
                "responses": {
                    "201": _answer("Checked in (or out)", _SCAN_ANSWER),
                    "400": _answer("The body is not a JSON object"),
                    "401": _UNAUTHORIZED,
                    "403": _answer("cancelled, not_confirmed, not_allowed_here, token_not_for_checkpoint, "
                                   "attestation_required (sanitary status not valid, see sanitary)",
                                   _SCAN_ANSWER),
                    "404": _answer("unknown_code or unknown_checkpoint", _SCAN_ANSWER),
                    "409": _answer("already_checked_in (with when, where, by whom) or not_inside", _SCAN_ANSWER),
                    "422": _answer("invalid_scan_id, invalid_scanned_at or invalid_direction"),
                },
            }},
            "/api/v1/events/{slug}/checkins/{scan_id}/undo": {"post": {
                "summary": "Undo a check-in made by this device within two minutes",
                "parameters": [_SLUG, {"name": "scan_id", "in": "path", "required": True,
                                       "schema": {"type": "string", "maxLength": 64}}],
                "responses": {"200": _answer("Undone"), "401": _UNAUTHORIZED,
                              "403": _answer("Not this device's scan, or too late"),
                              "404": _answer("No such check-in")},
            }},
            "/api/v1/events/{slug}/search": {"get": {
                "summary": "Find people by name, reference, phone or full IIN",
                "parameters": [_SLUG, {"name": "q", "in": "query", "required": True,
                                       "schema": {"type": "string", "maxLength": 100}}],
                "responses": {"200": _answer("Matches", {"type": "object", "properties": {
                    "results": {"type": "array", "items": _PARTICIPANT}}}), "401": _UNAUTHORIZED},
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
                "responses": {"200": _answer("The door's data (gzip when accepted)", {"type": "object", "properties": {
                    "cursor": {"type": "string"}, "full": {"type": "boolean"}, "event": {"type": "object"},
                    "checkpoints": {"type": "array"}, "sanitary": {"type": "object"},
                    "badges": {"type": "array", "items": {"type": "object"}}}}),
                              "401": _UNAUTHORIZED, "422": _answer("invalid_since")},
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
                        "properties": {"scan_id": {"type": "string"}, "code": {"type": "string"},
                                       "checkpoint": {"type": "string"},
                                       "scanned_at": {"type": "string", "format": "date-time"},
                                       "direction": {"type": "string", "enum": ["in", "out"]}}}}},
                }}}},
                "responses": {"200": _answer("One answer per scan, in the order sent (result ok or conflict)",
                                             {"type": "object", "properties": {
                                                 "results": {"type": "array", "items": _SCAN_ANSWER},
                                                 "synced_at": {"type": "string"}}}),
                              "400": _answer("invalid_json"), "401": _UNAUTHORIZED,
                              "422": _answer("invalid_batch, invalid_scan or invalid_scanned_at")},
            }},
            "/api/v1/events/{slug}/checkpoints": {"get": {
                "summary": "Checkpoints with their live headcounts",
                "parameters": [_SLUG],
                "responses": {"200": _answer("Checkpoints", {"type": "object"}), "401": _UNAUTHORIZED},
            }},
        },
    }
