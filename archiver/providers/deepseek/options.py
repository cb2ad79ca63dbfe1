"""DeepSeek's constants (an import-only provider has no options to declare). Light: the
registry imports it through ``provider.py``."""

from __future__ import annotations

PROVIDER = "deepseek"
# Bump when a flattener change should re-derive rows whose raw JSON is unchanged (reflatten).
FLATTENER_VERSION = 1
