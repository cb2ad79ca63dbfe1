"""xAI Grok, as the rest of archiver sees it: an import-only provider (its data export; no
live backup, no sending). Light to import: the export and the flattener load when used."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from archiver.providers.base import ExportFormat, Provider, Reflatten
from archiver.providers.grok.options import FLATTENER_VERSION, PROVIDER
from archiver.providers.grok.render import GrokRenderer

if TYPE_CHECKING:
    import sqlite_utils

    from archiver.flatten.records import FlatConversation
    from archiver.importer.source import ExportFiles, ImportOptions
    from archiver.progress import Progress
    from archiver.summary import Summary


class GrokExport(ExportFormat):
    label = "an xAI Grok data export (prod-grok-backend.json)"

    def detect(self, files: ExportFiles) -> bool:
        from archiver.providers.grok.export import detect

        return detect(files)

    def run(
        self,
        db: sqlite_utils.Database,
        files: ExportFiles,
        options: ImportOptions,
        progress: Progress | None = None,
    ) -> Summary:
        from archiver.providers.grok.export import run

        return run(db, files, options, progress)


class GrokReflatten(Reflatten):
    version = FLATTENER_VERSION

    def rebuild(
        self, conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
    ) -> FlatConversation:
        from archiver.providers.grok.flatten import rebuild

        return rebuild(conversation, messages)


class Grok(Provider[Any]):
    name = PROVIDER
    title = "Grok"
    summary = "xAI Grok's data export: every conversation and branch, thinking, files (import)"
    conversation_web_url = "https://grok.com/c/{id}"

    export = GrokExport()
    renderer = GrokRenderer()
    reflatten = GrokReflatten()
