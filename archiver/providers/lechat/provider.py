"""Mistral Le Chat, as the rest of archiver sees it: an import-only provider (its chat export;
no live backup, no sending). Light to import: the export and the flattener load when used."""

from __future__ import annotations

from typing import Any

from archiver.providers.base import Provider
from archiver.providers.lazy import LazyExportFormat, LazyReflatten
from archiver.providers.lechat.options import FLATTENER_VERSION, PROVIDER
from archiver.providers.lechat.render import LeChatRenderer


class LeChatExport(LazyExportFormat):
    label = "a Mistral Le Chat export (chat-<uuid>.json files)"
    module = "archiver.providers.lechat.export"


class LeChatReflatten(LazyReflatten):
    version = FLATTENER_VERSION
    module = "archiver.providers.lechat.flatten"


class LeChat(Provider[Any]):
    name = PROVIDER
    title = "Le Chat"
    summary = "Mistral Le Chat's export: every chat, reasoning, uploaded files (import)"
    conversation_web_url = "https://chat.mistral.ai/chat/{id}"

    export = LeChatExport()
    renderer = LeChatRenderer()
    reflatten = LeChatReflatten()
