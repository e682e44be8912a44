"""Bearer-token authentication for the API: every call is scoped to the token's event."""
from functools import wraps

from flask import jsonify, request

from ..checkin.tokens import DeviceUnconfirmed, KnownDevice, find_event_and_token
from ..extensions import db


def api_error(status, result, **extra):
    return jsonify(result=result, **extra), status


def _bearer_token():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _unauthorized():
    # Same answer for an unknown event and a bad token: the API does not list events.
    response = api_error(401, "unauthorized")
    response[0].headers["WWW-Authenticate"] = 'Bearer realm="eventreg"'
    return response


def token_required(view):
    """Views taking `slug` get the event and the token (tokens.DeviceToken); 401 without a valid token for it."""

    @wraps(view)
    def wrapper(slug, *args, **kwargs):
        token = _bearer_token()
        event, device = find_event_and_token(slug, token) if token else (None, None)
        if device is None:
            return _unauthorized()
        return view(event, device, *args, **kwargs)

    return wrapper


def token_rechecked_by_the_scan(view):
    """As token_required, for the scan itself: a device this worker found usable before is not looked up
    again but rechecked by the scan's door read (tokens.KnownDevice), one statement less per scan. The
    view gets `known` too (None when the token was looked up) and must pass it to the check-in."""

    @wraps(view)
    def wrapper(slug, *args, **kwargs):
        token = _bearer_token()
        known = KnownDevice.recall(slug, token)
        if known is not None:
            try:
                response = view(known.event, known.token, *args, known=known, **kwargs)
                known.confirm()  # a refusal answered before the door read
                return response
            except DeviceUnconfirmed:
                # Nothing was written (the check-in confirms before it writes): answer as if never remembered.
                known.forget()
                db.session.rollback()
        event, device = find_event_and_token(slug, token) if token else (None, None)
        if device is None:
            return _unauthorized()
        KnownDevice.remember(slug, token, event, device)
        return view(event, device, *args, known=None, **kwargs)

    return wrapper
