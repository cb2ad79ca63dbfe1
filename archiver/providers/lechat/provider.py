"""Mistral Le Chat's chat export (import-only), as the registry names it."""

from __future__ import annotations

from archiver.providers import base
from archiver.providers.lechat import options


class LeChat(base.Provider):
    """Mistral Le Chat's export: every chat, reasoning, uploaded files (import)"""

    title = "Le Chat"

    export = base.ExportFormat(label="a Mistral Le Chat export (chat-<uuid>.json files)")
    renderer = base.Renderer(web_url="https://chat.mistral.ai/chat/{id}")
    reflatten = base.Reflatten(module="flatten", version=options.FLATTENER_VERSION)
