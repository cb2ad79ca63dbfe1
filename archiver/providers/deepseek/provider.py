"""DeepSeek's data export (import-only), as the registry names it."""

from __future__ import annotations

from archiver.providers import base
from archiver.providers.deepseek.options import FLATTENER_VERSION, PROVIDER


class DeepSeek(base.Provider):
    name = PROVIDER
    title = "DeepSeek"
    summary = "DeepSeek's data export: every conversation and branch, reasoning, searches (import)"
    conversation_web_url = "https://chat.deepseek.com/a/chat/s/{id}"

    export = base.ExportFormat(
        label="a DeepSeek data export (conversations.json with inserted_at and fragments)"
    )
    renderer = base.Renderer()
    reflatten = base.Reflatten(module="flatten", version=FLATTENER_VERSION)
    demo = base.Demo()  # demo.py: its part of `make demo`
