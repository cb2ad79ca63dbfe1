"""SQLite storage over schema.sql: opening and migrating, per-conversation saves, sync state."""

from archiver.store.db import open_db, transaction

__all__ = ["open_db", "transaction"]
