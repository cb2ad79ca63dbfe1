"""Mistral Le Chat's chat export (import-only), as the registry names it."""

from __future__ import annotations

from archiver.providers import base
from archiver.providers.lechat.options import FLATTENER_VERSION, PROVIDER


class LeChat(base.Provider):
    name = PROVIDER
    title = "Le Chat"
    summary = "Mistral Le Chat's export: every chat, reasoning, uploaded files (import)"
    conversation_web_url = "https://chat.mistral.ai/chat/{id}"

    export = base.ExportFormat(label="a Mistral Le Chat export (chat-<uuid>.json files)")
    renderer = base.Renderer()
    reflatten = base.Reflatten(module="flatten", version=FLATTENER_VERSION)
    demo = base.Demo()  # demo.py: its part of `make demo`
