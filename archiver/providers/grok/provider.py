"""xAI Grok, as the rest of archiver sees it: an import-only provider (its data export; no
live backup, no sending). Light to import: the export and the flattener load when used."""

from __future__ import annotations

from typing import Any

from archiver.providers.base import Provider
from archiver.providers.grok.options import FLATTENER_VERSION, PROVIDER
from archiver.providers.grok.render import GrokRenderer
from archiver.providers.lazy import LazyExportFormat, LazyReflatten


class GrokExport(LazyExportFormat):
    label = "an xAI Grok data export (prod-grok-backend.json)"
    module = "archiver.providers.grok.export"


class GrokReflatten(LazyReflatten):
    version = FLATTENER_VERSION
    module = "archiver.providers.grok.flatten"


class Grok(Provider[Any]):
    name = PROVIDER
    title = "Grok"
    summary = "xAI Grok's data export: every conversation and branch, thinking, files (import)"
    conversation_web_url = "https://grok.com/c/{id}"

    export = GrokExport()
    renderer = GrokRenderer()
    reflatten = GrokReflatten()
