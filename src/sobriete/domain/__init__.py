"""Plain types and the shared vocabulary. No I/O here."""
