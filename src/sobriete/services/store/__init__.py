"""Persistence: SQLite by default (one file, WAL), PostgreSQL selected by URL."""

from sobriete.services.store.engine import Store, default_url, open_store
from sobriete.services.store.readings import WriteCounts, write_readings

__all__ = ["Store", "WriteCounts", "default_url", "open_store", "write_readings"]
