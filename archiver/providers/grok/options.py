"""Grok's constants (an import-only provider has no options to declare). Light: the registry
imports it through ``provider.py``."""

from __future__ import annotations

PROVIDER = "grok"
# Bump when a flattener change should re-derive rows whose raw JSON is unchanged (reflatten).
FLATTENER_VERSION = 1
# The conversations' member of prod-grok-backend.json, and where asset bytes sit in the export.
CONVERSATIONS = "conversations"
ASSET_FOLDER = "prod-mc-asset-server"
