"""Import ChatGPT's official data export (zip, folder or conversations.json) into the archive:
``archiver.importer.run.import_export``.

Nothing is imported here on purpose: the import's worker process starts by importing
``archiver.importer.pipeline``, and loading the package's saving side (sqlite_utils and the
store) with it would cost that process a fifth of a second before its first entry."""
