"""DeepSeek, as the rest of archiver sees it: an import-only provider (its data export; no
live backup, no sending). Light to import: the export and the flattener load when used."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from archiver.providers.base import ExportFormat, Provider, Reflatten
from archiver.providers.deepseek.options import FLATTENER_VERSION, PROVIDER
from archiver.providers.deepseek.render import DeepSeekRenderer

if TYPE_CHECKING:
    import sqlite_utils

    from archiver.flatten.records import FlatConversation
    from archiver.importer.source import ExportFiles, ImportOptions
    from archiver.progress import Progress
    from archiver.summary import Summary


class DeepSeekExport(ExportFormat):
    label = "a DeepSeek data export (conversations.json with inserted_at and fragments)"

    def detect(self, files: ExportFiles) -> bool:
        from archiver.providers.deepseek.export import detect

        return detect(files)

    def run(
        self,
        db: sqlite_utils.Database,
        files: ExportFiles,
        options: ImportOptions,
        progress: Progress | None = None,
    ) -> Summary:
        from archiver.providers.deepseek.export import run

        return run(db, files, options, progress)


class DeepSeekReflatten(Reflatten):
    version = FLATTENER_VERSION

    def rebuild(
        self, conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
    ) -> FlatConversation:
        from archiver.providers.deepseek.flatten import rebuild

        return rebuild(conversation, messages)


class DeepSeek(Provider[Any]):
    name = PROVIDER
    title = "DeepSeek"
    summary = "DeepSeek's data export: every conversation and branch, reasoning, searches (import)"
    conversation_web_url = "https://chat.deepseek.com/a/chat/s/{id}"

    export = DeepSeekExport()
    renderer = DeepSeekRenderer()
    reflatten = DeepSeekReflatten()
