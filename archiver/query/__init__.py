"""Reading the archive: full-text search, exports (Markdown, JSON, HTML) and statistics.

Kept light to import: ``archiver search`` starts cold, so nothing here pulls in the network
stack, and search runs on a plain ``sqlite3`` connection."""
