"""Tables of the badges feature (print log, cached PDFs) live here."""
