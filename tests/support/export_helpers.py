"""Small ChatGPT data exports built by the tests, written into tmp_path (formats:
docs/protocol/chatgpt.md, docs/protocol/chatgpt-export.md)."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path
from typing import Any


def conversation(
    cid: str,
    *,
    update_time: float = 1701830474.5,
    question: str = "What is a B-tree?",
    answer: str = "A balanced search tree.",
    image_pointer: str | None = None,
    attachment_id: str | None = None,
) -> dict[str, Any]:
    """An export entry: root → hidden system → user → assistant (float epoch times, an id)."""
    user_content: dict[str, Any] = {"content_type": "text", "parts": [question]}
    if image_pointer:
        user_content = {
            "content_type": "multimodal_text",
            "parts": [
                {
                    "content_type": "image_asset_pointer",
                    "asset_pointer": image_pointer,
                    "size_bytes": 5,
                    "width": 10,
                    "height": 10,
                },
                question,
            ],
        }
    user_metadata: dict[str, Any] = {}
    if attachment_id:
        user_metadata["attachments"] = [
            {"id": attachment_id, "name": "notes.txt", "size": 4, "mime_type": "text/plain"}
        ]
    return {
        "id": cid,
        "conversation_id": cid,
        "title": f"Chat {cid}",
        "create_time": 1701830400.25,
        "update_time": update_time,
        "current_node": f"{cid}-a",
        "is_archived": False,
        "default_model_slug": "gpt-4o",
        "moderation_results": [],
        "mapping": {
            f"{cid}-root": {
                "id": f"{cid}-root",
                "message": None,
                "parent": None,
                "children": [f"{cid}-s"],
            },
            f"{cid}-s": {
                "id": f"{cid}-s",
                "parent": f"{cid}-root",
                "children": [f"{cid}-u"],
                "message": {
                    "id": f"{cid}-ms",
                    "author": {"role": "system", "name": None, "metadata": {}},
                    "create_time": None,
                    "content": {"content_type": "text", "parts": [""]},
                    "metadata": {"is_visually_hidden_from_conversation": True},
                    "recipient": "all",
                },
            },
            f"{cid}-u": {
                "id": f"{cid}-u",
                "parent": f"{cid}-s",
                "children": [f"{cid}-a"],
                "message": {
                    "id": f"{cid}-mu",
                    "author": {"role": "user", "name": None, "metadata": {}},
                    "create_time": 1701830401.5,
                    "content": user_content,
                    "status": "finished_successfully",
                    "weight": 1.0,
                    "metadata": user_metadata,
                    "recipient": "all",
                },
            },
            f"{cid}-a": {
                "id": f"{cid}-a",
                "parent": f"{cid}-u",
                "children": [],
                "message": {
                    "id": f"{cid}-ma",
                    "author": {"role": "assistant", "name": None, "metadata": {}},
                    "create_time": 1701830402.75,
                    "content": {"content_type": "text", "parts": [answer]},
                    "status": "finished_successfully",
                    "end_turn": True,
                    "weight": 1.0,
                    "metadata": {"model_slug": "gpt-4o"},
                    "recipient": "all",
                },
            },
        },
    }


def as_json(conversations: list[Any]) -> bytes:
    return json.dumps(conversations).encode()


def write_zip(
    path: Path,
    conversations: list[Any] | None = None,
    *,
    split: int | None = None,
    files: dict[str, bytes] | None = None,
    raw_members: dict[str, bytes] | None = None,
    symlinks: dict[str, str] | None = None,
) -> Path:
    """An export zip: conversations.json (or conversations-NNN.json of ``split`` each plus
    export_manifest.json), extra ``files``, members written as given, and symlink entries."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("user.json", '{"id": "user-1"}')
        if conversations is not None:
            if split:
                names = []
                for n, start in enumerate(range(0, len(conversations), split)):
                    name = f"conversations-{n:03d}.json"
                    names.append(name)
                    zf.writestr(name, as_json(conversations[start : start + split]))
                zf.writestr("export_manifest.json", json.dumps({"conversation_files": names}))
            else:
                zf.writestr("conversations.json", as_json(conversations))
        for name, data in (files or {}).items():
            zf.writestr(name, data)
        for name, data in (raw_members or {}).items():
            zf.writestr(zipfile.ZipInfo(name), data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path
