"""DeepSeek, as the rest of archiver sees it: an import-only provider (its data export; no
live backup, no sending). Light to import: the export and the flattener load when used."""

from __future__ import annotations

from typing import Any

from archiver.providers.base import Provider
from archiver.providers.deepseek.options import FLATTENER_VERSION, PROVIDER
from archiver.providers.deepseek.render import DeepSeekRenderer
from archiver.providers.lazy import LazyExportFormat, LazyReflatten


class DeepSeekExport(LazyExportFormat):
    label = "a DeepSeek data export (conversations.json with inserted_at and fragments)"
    module = "archiver.providers.deepseek.export"


class DeepSeekReflatten(LazyReflatten):
    version = FLATTENER_VERSION
    module = "archiver.providers.deepseek.flatten"


class DeepSeek(Provider[Any]):
    name = PROVIDER
    title = "DeepSeek"
    summary = "DeepSeek's data export: every conversation and branch, reasoning, searches (import)"
    conversation_web_url = "https://chat.deepseek.com/a/chat/s/{id}"

    export = DeepSeekExport()
    renderer = DeepSeekRenderer()
    reflatten = DeepSeekReflatten()
