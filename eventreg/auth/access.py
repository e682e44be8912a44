"""Who may do what: one place for the role checks of every staff and organizer page."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from ..events.service import get_event_or_404
from .models import ORGANIZER, STAFF

# What each role may do: an organizer can do everything a staff member can.
ROLE_INCLUDES = {ORGANIZER: {ORGANIZER, STAFF}, STAFF: {STAFF}}


def has_role(user, event, role):
    """True when the user holds `role` (or a role that includes it) for this event."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    held = user.role_for(event)
    return held is not None and role in ROLE_INCLUDES[held]


def event_role_required(role):
    """For views taking `slug`: log in first, then need `role` for that event (403 otherwise).

    The view receives the event as its first argument instead of the slug.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(slug, *args, **kwargs):
            event = get_event_or_404(slug)
            if not has_role(current_user, event, role):
                abort(403)
            return view(event, *args, **kwargs)

        return wrapper

    return decorator
