"""Le Chat's part of ``make demo``: a small data export in the documented layout
(docs/protocol/lechat.md), with reasoning and a file, imported and told apart from the other
exports by its shape. Made up, not a real account's data."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archiver.providers.modules import DemoRun

EMULATOR_KNOBS: dict[str, str | int] = {}  # no emulator: an export only
QUERIES: tuple[tuple[str, str], ...] = ()

PNG = b"\x89PNG\r\n\x1a\n" + b"demo image" * 8  # a made-up file


def steps(run: DemoRun) -> None:
    run.heading("Import a Le Chat data export (told apart from the others by its shape)")
    run.import_export(lechat_export(run.workdir / "chat-export-1773475200000.zip"))


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
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"chat-{chat}.json", json.dumps(records, indent=2))
        archive.writestr(f"chat-{chat}-files/balcony.png", PNG)
        archive.writestr("chat-lechat-demo-2.json", json.dumps(other, indent=2))
    return path
