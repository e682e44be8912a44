"""The audit trail: who did what to whose record, when. Written in the same transaction as the change."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .db import utcnow
from .extensions import db


class AuditEntry(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("scanner_token.id", ondelete="SET NULL"))
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id", ondelete="SET NULL"))
    # What happened, in terms an auditor can read; never the IIN, phone or email.
    details: Mapped[dict] = mapped_column(JSON, default=dict)


def record(action, *, event_id=None, user_id=None, token_id=None, registration_id=None, **details):
    """Add an audit entry to the current transaction (the caller commits it with the change)."""
    db.session.add(AuditEntry(event_id=event_id, action=action, user_id=user_id, token_id=token_id,
                              registration_id=registration_id, details=details))
