"""xAI Grok's data export (import-only), as the registry names it."""

from __future__ import annotations

from archiver.providers import base
from archiver.providers.grok import options


class Grok(base.Provider):
    """xAI Grok's data export: every conversation and branch, thinking, files (import)"""

    title = "Grok"

    export = base.ExportFormat(label="an xAI Grok data export (prod-grok-backend.json)")
    renderer = base.Renderer(web_url="https://grok.com/c/{id}")
    reflatten = base.Reflatten(module="flatten", version=options.FLATTENER_VERSION)
