"""Mistral Le Chat, as the rest of archiver sees it: an import-only provider (its chat export;
no live backup, no sending). Light to import: the export and the flattener load when used."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from archiver.providers.base import ExportFormat, Provider, Reflatten
from archiver.providers.lechat.options import FLATTENER_VERSION, PROVIDER
from archiver.providers.lechat.render import LeChatRenderer

if TYPE_CHECKING:
    import sqlite_utils

    from archiver.flatten.records import FlatConversation
    from archiver.importer.source import ExportFiles, ImportOptions
    from archiver.progress import Progress
    from archiver.summary import Summary


class LeChatExport(ExportFormat):
    label = "a Mistral Le Chat export (chat-<uuid>.json files)"

    def detect(self, files: ExportFiles) -> bool:
        from archiver.providers.lechat.export import detect

        return detect(files)

    def run(
        self,
        db: sqlite_utils.Database,
        files: ExportFiles,
        options: ImportOptions,
        progress: Progress | None = None,
    ) -> Summary:
        from archiver.providers.lechat.export import run

        return run(db, files, options, progress)


class LeChatReflatten(Reflatten):
    version = FLATTENER_VERSION

    def rebuild(
        self, conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
    ) -> FlatConversation:
        from archiver.providers.lechat.flatten import rebuild

        return rebuild(conversation, messages)


class LeChat(Provider[Any]):
    name = PROVIDER
    title = "Le Chat"
    summary = "Mistral Le Chat's export: every chat, reasoning, uploaded files (import)"
    conversation_web_url = "https://chat.mistral.ai/chat/{id}"

    export = LeChatExport()
    renderer = LeChatRenderer()
    reflatten = LeChatReflatten()
