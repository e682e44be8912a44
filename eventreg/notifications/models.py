"""The outbox: every email is stored before it is sent, so a failed send can be retried."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import utcnow
from ..extensions import db

QUEUED = "queued"
SENT = "sent"
FAILED = "failed"  # given up: too many failed attempts, or nothing left to send it about
STATUSES = (QUEUED, SENT, FAILED)

CONFIRMATION = "confirmation"  # sign-up and "resend my confirmation": wording follows the status
PROMOTED = "promoted"  # a waitlisted person got a place
REVIEWED = "evidence_reviewed"  # an organizer accepted or refused a sanitary document
KINDS = (CONFIRMATION, PROMOTED, REVIEWED)


class OutboxMessage(db.Model):
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        # send-outbox picks the queued messages, oldest first.
        Index("ix_outbox_message_status", "status", "created_at"),
        # The resend rate limit looks up the last message of a registration.
        Index("ix_outbox_message_registration", "registration_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Erasing a registration erases its messages too: they hold the person's name and address.
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    to_address: Mapped[str] = mapped_column(String(254))
    # The text is written when the message is sent, in the person's language and with their status
    # at that moment (None until then): queuing costs a sign-up one small row, not two templates.
    # What was sent is kept here afterwards.
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # The site's address the person used (or PUBLIC_URL), for the link to their private page.
    base_url: Mapped[str] = mapped_column(String(200), default="")
    # What the message is about beyond its kind: an organizer's review {"accepted", "reason"}.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # The badge PDF is built when the message is sent, not stored: it always shows the current
    # badge code (a reissue invalidates older ones) and the table stays small.
    attach_badge: Mapped[bool] = mapped_column(default=False)

    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    # Set while one process is sending the message, so that the web request and the cron run
    # never both send it; a send that crashed is taken over once this is old enough.
    sending_since: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))

    registration = relationship("Registration")

    def __repr__(self):
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"
