"""Bearer-token authentication for the API: every call is scoped to the token's event."""
from functools import wraps

from flask import jsonify, request

from ..checkin.tokens import find_event_and_token


def api_error(status, result, **extra):
    return jsonify(result=result, **extra), status


def token_required(view):
    """Views taking `slug` get the event and the token (tokens.DeviceToken); 401 without a valid token for it."""

    @wraps(view)
    def wrapper(slug, *args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        event, device = find_event_and_token(slug, token.strip()) if scheme.lower() == "bearer" else (None, None)
        if device is None:
            # Same answer for an unknown event and a bad token: the API does not list events.
            response = api_error(401, "unauthorized")
            response[0].headers["WWW-Authenticate"] = 'Bearer realm="eventreg"'
            return response
        return view(event, device, *args, **kwargs)

    return wrapper
