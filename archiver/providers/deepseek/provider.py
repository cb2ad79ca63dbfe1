"""DeepSeek, as the rest of archiver sees it: an import-only provider (its data export; no
live backup, no sending). Light to import: the export and the flattener load when used."""

from __future__ import annotations

from archiver.providers.base import ExportFormat, Provider, Reflatten, Renderer
from archiver.providers.deepseek.options import FLATTENER_VERSION, PROVIDER


class DeepSeek(Provider):
    name = PROVIDER
    title = "DeepSeek"
    summary = "DeepSeek's data export: every conversation and branch, reasoning, searches (import)"
    conversation_web_url = "https://chat.deepseek.com/a/chat/s/{id}"

    export = ExportFormat(
        label="a DeepSeek data export (conversations.json with inserted_at and fragments)"
    )
    renderer = Renderer()
    reflatten = Reflatten(module="flatten", version=FLATTENER_VERSION)
