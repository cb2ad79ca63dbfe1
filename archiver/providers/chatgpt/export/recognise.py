"""Whether an export's files are ChatGPT's data export: by content, not by name.

DeepSeek's export has a ``conversations.json`` with a ``mapping`` too; what tells ChatGPT's
apart is the shape of its entries (``create_time``/``current_node``, no ``inserted_at``) and,
for an export with no conversations, ChatGPT's own side files."""

from __future__ import annotations

from pathlib import PurePosixPath

from archiver.importer.source import NOT_AN_ARRAY, ExportFiles, first_array_item
from archiver.providers.chatgpt.export.reader import pick_conversation_files

# Files only ChatGPT's export has beside its conversations.
SIDE_FILES = ("chat.html", "user.json", "message_feedback.json", "export_manifest.json")


def looks_like_chatgpt_conversation(item: object) -> bool:
    if not isinstance(item, dict) or not isinstance(item.get("mapping"), dict):
        return False
    if "inserted_at" in item or "chat_messages" in item:  # DeepSeek's, Claude's
        return False
    return any(key in item for key in ("create_time", "current_node", "conversation_id"))


def is_chatgpt_export(files: ExportFiles) -> bool:
    if files.kind == "file":
        chosen = files.entries
    else:
        wanted = set(pick_conversation_files(files.names()))
        chosen = [e for e in files.entries if e.name in wanted]
    if not chosen:
        return False
    first = first_array_item(files, chosen[0])
    if first is NOT_AN_ARRAY:
        # Not an array, or a first conversation too big to parse here: its opening says.
        head = files.head(chosen[0]).lstrip()
        return head.startswith(b"[") and b'"mapping"' in head and b'"inserted_at"' not in head
    if first is None:  # no conversations: ChatGPT's only if its side files say so
        return files.kind == "file" or any(
            PurePosixPath(name).name in SIDE_FILES for name in files.names()
        )
    return looks_like_chatgpt_conversation(first)
