"""Tables of the badges feature: the log of printed badges."""
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import utcnow
from ..extensions import db


class BadgePrint(db.Model):
    """One badge printed at the badge desk: who printed whose badge, in which size, and whether
    the code was reissued first (which makes every earlier badge of that person invalid)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"), index=True)
    # The staff member; kept when their account goes, the print happened all the same.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    size: Mapped[str] = mapped_column(String(16))
    reissued: Mapped[bool] = mapped_column(default=False)
    printed_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    registration = relationship("Registration")
    user = relationship("User")
