"""Le Chat's constants (an import-only provider has no options to declare). Light: the
registry imports it through ``provider.py``."""

from __future__ import annotations

PROVIDER = "lechat"
# Bump when a flattener change should re-derive rows whose raw JSON is unchanged (reflatten).
FLATTENER_VERSION = 1


def files_folder(chat_id: str) -> str:
    """The folder of a chat's uploads in the export: ``chat-<chat id>-files``."""
    return f"chat-{chat_id}-files"
