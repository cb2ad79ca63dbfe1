"""Google Gemini's part of ``make demo``: its chats backed up twice, then a small Google Takeout
of the same account imported and matched to the live chats."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archiver.providers.modules import DemoRun

EMULATOR_KNOBS: dict[str, str | int] = {"chats": 8}
QUERIES: tuple[tuple[str, str], ...] = ()


def steps(run: DemoRun) -> None:
    run.backup_twice("Back up Google Gemini (both chat lists, every turn and draft, thoughts)")
    run.heading("Import a Google Takeout of the same Gemini account (matched to the live chats)")
    run.import_export(takeout(run.db, run.workdir / "takeout-gemini.zip"))


def takeout(db_path: Path, path: Path) -> Path:
    """A small Google Takeout (My Activity, JSON form) of the Gemini account backed up into
    ``db_path``: an entry for each prompt of two archived chats (so the import matches them to
    the live turns), one prompt with an uploaded photo that only the Takeout has, some
    feedback, and another product's activity (left out)."""
    db = sqlite3.connect(db_path)
    chats = [
        row[0]
        for row in db.execute(
            "SELECT id FROM conversations WHERE provider = 'gemini' ORDER BY id LIMIT 2"
        )
    ]
    turns = db.execute(
        "SELECT conversation_id, text, create_time FROM messages WHERE role = 'user' "
        "AND conversation_id IN (?, ?) ORDER BY create_time",
        chats,
    ).fetchall()
    db.close()

    entries = [
        _entry(f"Prompted {text}", when, cid, "(as the live chat)") for cid, text, when in turns
    ]
    photo = "photo_a1b2c3-0f1e2d3c4b5a6978.png"
    last = _entry(
        "Prompted What is in this photo?", "2026-09-01T10:00:00.000Z", chats[0], "A beach."
    )
    last["subtitles"] = [{"name": "Attached 1 file."}, {"name": "-  photo.png", "url": photo}]
    last["imageFile"] = photo
    entries += [
        last,
        _entry("Gave feedback: Good response", "2026-09-01T10:01:00.000Z", chats[0], None),
    ]
    entries.sort(key=lambda e: e["time"], reverse=True)
    search = [
        {
            "header": "Search",
            "title": "Searched for tide tables",
            "time": "2026-09-01T09:00:00.000Z",
        }
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        folder = "Takeout/My Activity/Gemini Apps"
        archive.writestr(f"{folder}/MyActivity.json", json.dumps(entries, indent=2))
        archive.writestr(f"{folder}/{photo}", b"\x89PNG\r\n\x1a\n demo photo")
        archive.writestr("Takeout/My Activity/Search/MyActivity.json", json.dumps(search))
    return path


def _entry(title: str, when: str, chat: str | None, answer: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {"header": "Gemini Apps", "title": title, "time": when[:23] + "Z"}
    item |= {"products": ["Gemini Apps"], "activityControls": ["Gemini Apps Activity"]}
    if chat:
        url = "https://gemini.google.com/app/" + chat.removeprefix("c_")
        item["details"] = [{"name": url, "url": url}]
    if answer:
        item["safeHtmlItem"] = [{"html": f"<p>{answer}</p>"}]
    return item
