"""archiver: a complete, local, queryable SQLite archive of AI chat history."""

__version__ = "0.2.0.dev0"
