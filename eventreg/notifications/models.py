"""Tables of the notifications feature (the outbox) live here."""
