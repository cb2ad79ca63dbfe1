"""The data exports `make demo` imports besides ChatGPT's: one of xAI Grok, one of Mistral Le
Chat and one of DeepSeek, each a small zip in the documented layout (docs/protocol/grok.md,
lechat.md, deepseek.md), with a regenerated answer, reasoning and a file. Made up, not real
accounts' data."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

PNG = b"\x89PNG\r\n\x1a\n" + b"demo image" * 8
USER = "6b1e2f0a-0000-4000-8000-00000000demo"


def _date(ms: int) -> dict[str, dict[str, str]]:
    return {"$date": {"$numberLong": str(ms)}}


def _response(ident: str, parent: str | None, sender: str, text: str, ms: int, **more: object):
    return {
        "response": {
            "_id": ident,
            "conversation_id": "grok-demo-1",
            "message": text,
            "sender": sender,
            "create_time": _date(ms),
            "parent_response_id": parent,
            **more,
        },
        "share_link": None,
    }


def grok_export(path: Path) -> Path:
    """``<uuid>.zip`` holding prod-grok-backend.json, an asset and the account files."""
    start = 1_767_603_600_000  # 2026-01-05T09:00:00Z
    responses = [
        _response("g1", None, "human", "Name a river that flows north.", start),
        _response(
            "g2", "g1", "ASSISTANT", "The Nile flows north.", start + 4_000,
            model="grok-4", thinking_trace="Rivers flowing north: Nile, Ob, Rhine.",
        ),
        _response("g3", "g1", "assistant", "The Rhine, for most of its course.", start + 90_000,
                  model="grok-4"),
        _response("g4", "g3", "human", "Here is a photo of it.", start + 120_000,
                  file_attachments=["asset-demo-1"]),
        _response("g5", "g4", "ASSISTANT", "That is the Rhine at Koblenz.", start + 125_000,
                  model="grok-4"),
    ]  # fmt: skip
    backend = {
        "conversations": [
            {
                "conversation": {
                    "id": "grok-demo-1",
                    "user_id": USER,
                    "create_time": "2026-01-05T09:00:00.000000Z",
                    "modify_time": "2026-01-05T09:02:05.000Z",
                    "title": "Rivers flowing north",
                    "leaf_response_id": "g5",
                },
                "responses": responses,
            }
        ],
        "projects": [],
        "tasks": [],
        "media_posts": [],
    }
    root = f"ttl/30d/export_data/{USER}/"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(root + "prod-grok-backend.json", json.dumps(backend, indent=2))
        archive.writestr(root + "prod-mc-auth-mgmt-api.json", json.dumps({"user": {}}))
        archive.writestr(root + "prod-mc-asset-server/asset-demo-1/content", PNG)
    return path


def _record(chat: str, ident: str, role: str, at: str, content: str, **more: object):
    return {
        "id": ident,
        "version": 0,
        "chatId": chat,
        "role": role,
        "createdAt": at,
        "content": content,
        "contentChunks": None,
        "reaction": "neutral",
        "reactionDetail": None,
        "reactionComment": None,
        "preference": None,
        "preferenceOver": None,
        "context": None,
        "canvas": [],
        "quotes": [],
        "files": [],
        **more,
    }


def lechat_export(path: Path) -> Path:
    """``chat-export-<ms>.zip``: two chats (records shuffled, as Le Chat writes them) and one
    chat's uploaded file."""
    chat = "lechat-demo-1"
    answer = "Chard, lettuce and spinach."
    records = [
        _record(chat, "l2", "assistant", "2026-03-14T08:00:03.500Z", answer, contentChunks=[
            {"type": "text", "text": "Shade suits leafy greens.", "_context": {"type": "reasoning"}},
            {"type": "text", "text": answer},
        ]),
        _record(chat, "l1", "user", "2026-03-14T08:00:02.000Z", "What grows in shade?",
                files=[{"type": "image", "name": "balcony.png"}]),
    ]  # fmt: skip
    other = [
        _record("lechat-demo-2", "m1", "user", "2026-04-02T19:30:00.000Z", "Bonjour in Breton?"),
        _record("lechat-demo-2", "m2", "assistant", "2026-04-02T19:30:01.000Z", "Demat!",
                contentChunks=[{"type": "text", "text": "Demat!"}]),
    ]  # fmt: skip
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"chat-{chat}.json", json.dumps(records, indent=2))
        archive.writestr(f"chat-{chat}-files/balcony.png", PNG)
        archive.writestr("chat-lechat-demo-2.json", json.dumps(other, indent=2))
    return path


def _node(ident: str, parent: str, children: list[str], at: str, *fragments: dict) -> dict:
    message = {
        "files": [],
        "model": "deepseek-reasoner",
        "inserted_at": at,
        "fragments": list(fragments),
    }
    return {"id": ident, "parent": parent, "children": children, "message": message}


def deepseek_export(path: Path) -> Path:
    """The "Export all history" zip: conversations.json (named like ChatGPT's, shaped
    otherwise) and user.json."""
    day = "2026-06-01T10:0"
    mapping = {
        "root": {"id": "root", "parent": None, "children": ["1"], "message": None},
        "1": _node("1", "root", ["2", "3"], day + "0:01+08:00",
                   {"type": "REQUEST", "content": "How long is a light-year in km?"}),
        "2": _node("2", "1", [], day + "0:05+08:00",
                   {"type": "THINK", "content": "c times a year.", "elapsed_secs": 3},
                   {"type": "RESPONSE", "content": "About 9.46 trillion km."}),
        "3": _node("3", "1", [], day + "2:00+08:00",
                   {"type": "RESPONSE", "content": "9,460,730,472,580.8 km exactly."}),
    }  # fmt: skip
    conversations = [
        {
            "id": "deepseek-demo-1",
            "title": "Light-year",
            "inserted_at": day + "0:00+08:00",
            "updated_at": day + "2:00+08:00",
            "mapping": mapping,
        }
    ]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("conversations.json", json.dumps(conversations, indent=2))
        archive.writestr("user.json", json.dumps({"id": "demo"}))
    return path


def write_chat_exports(workdir: Path) -> list[Path]:
    workdir.mkdir(exist_ok=True)
    return [
        grok_export(workdir / "grok-export.zip"),
        lechat_export(workdir / "chat-export-1773475200000.zip"),
        deepseek_export(workdir / "deepseek-export.zip"),
    ]
