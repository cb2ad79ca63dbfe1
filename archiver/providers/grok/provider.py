"""xAI Grok, as the rest of archiver sees it: an import-only provider (its data export; no
live backup, no sending). Light to import: the export and the flattener load when used."""

from __future__ import annotations

from archiver.providers.base import ExportFormat, Provider, Reflatten, Renderer
from archiver.providers.grok.options import FLATTENER_VERSION, PROVIDER


class Grok(Provider):
    name = PROVIDER
    title = "Grok"
    summary = "xAI Grok's data export: every conversation and branch, thinking, files (import)"
    conversation_web_url = "https://grok.com/c/{id}"

    export = ExportFormat(label="an xAI Grok data export (prod-grok-backend.json)")
    renderer = Renderer()
    reflatten = Reflatten(module="flatten", version=FLATTENER_VERSION)
