"""Mistral Le Chat, as the rest of archiver sees it: an import-only provider (its chat export;
no live backup, no sending). Light to import: the export and the flattener load when used."""

from __future__ import annotations

from archiver.providers.base import ExportFormat, Provider, Reflatten, Renderer
from archiver.providers.lechat.options import FLATTENER_VERSION, PROVIDER


class LeChat(Provider):
    name = PROVIDER
    title = "Le Chat"
    summary = "Mistral Le Chat's export: every chat, reasoning, uploaded files (import)"
    conversation_web_url = "https://chat.mistral.ai/chat/{id}"

    export = ExportFormat(label="a Mistral Le Chat export (chat-<uuid>.json files)")
    renderer = Renderer()
    reflatten = Reflatten(module="flatten", version=FLATTENER_VERSION)
