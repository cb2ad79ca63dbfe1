"""xAI Grok's data export (import-only), as the registry names it."""

from __future__ import annotations

from archiver.providers import base
from archiver.providers.grok.options import FLATTENER_VERSION, PROVIDER


class Grok(base.Provider):
    name = PROVIDER
    title = "Grok"
    summary = "xAI Grok's data export: every conversation and branch, thinking, files (import)"
    conversation_web_url = "https://grok.com/c/{id}"

    export = base.ExportFormat(label="an xAI Grok data export (prod-grok-backend.json)")
    renderer = base.Renderer()
    reflatten = base.Reflatten(module="flatten", version=FLATTENER_VERSION)
    demo = base.Demo()  # demo.py: its part of `make demo`
