"""DeepSeek's data export (import-only), as the registry names it."""

from __future__ import annotations

from archiver.providers import base
from archiver.providers.deepseek import options


class DeepSeek(base.Provider):
    """DeepSeek's data export: every conversation and branch, reasoning, searches (import)"""

    title = "DeepSeek"

    export = base.ExportFormat(
        label="a DeepSeek data export (conversations.json with inserted_at and fragments)"
    )
    renderer = base.Renderer(web_url="https://chat.deepseek.com/a/chat/s/{id}")
    reflatten = base.Reflatten(module="flatten", version=options.FLATTENER_VERSION)
