from ..extensions import db
from .models import ROLES, EventRole, User

MIN_PASSWORD_LENGTH = 10


class AccountError(Exception):
    pass


def create_or_update_user(email, password, role, event):
    """Create a user (or reset their password) and give them a role for an event."""
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none()
    created = user is None
    if created:
        user = User(email=email)
        db.session.add(user)
    user.set_password(password)
    existing = next((r for r in user.roles if r.event_id == event.id), None)
    if existing:
        existing.role = role
    else:
        user.roles.append(EventRole(event=event, role=role))
    db.session.commit()
    return user, created


def authenticate(email, password):
    """The active user with this email and password, or None (same answer for both mistakes)."""
    user = db.session.execute(
        db.select(User).filter_by(email=(email or "").strip().lower())
    ).scalar_one_or_none()
    if user is None or not user.is_active:
        # Hash anyway, so that timing does not tell which emails have accounts.
        User(password_hash=_DUMMY_HASH).check_password(password or "")
        return None
    return user if user.check_password(password or "") else None


_DUMMY_HASH = "scrypt:32768:8:1$dummysaltdummysa$" + "0" * 128
