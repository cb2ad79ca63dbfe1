"""Importing data exports: opening a zip, folder or file (``source``), choosing the provider
format that claims it, and the generic pieces formats share: the import loop for rows already
read (``flat_import``), the JSON array splitter (``jsonarray``), the export's files
(``files``, ``attach``), keeping other files whole (``keep``) and the summary (``summary``).
Each provider's own format lives in its package (``Provider.export``).

Nothing is imported here eagerly on purpose: ChatGPT's import worker process imports its
pipeline first thing, and loading the saving side (sqlite_utils and the store) with it would
cost that process a fifth of a second before its first entry."""
