"""Import ChatGPT's official data export (zip, folder or conversations.json) into the archive."""

from archiver.importer.run import ImportSummary, import_export

__all__ = ["ImportSummary", "import_export"]
