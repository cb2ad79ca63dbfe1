"""DeepSeek's part of ``make demo``: a small "Export all history" zip in the documented layout
(docs/protocol/deepseek.md), with a regenerated answer and reasoning, imported and told apart
from the other exports (ChatGPT's is named alike) by its shape. Made up, not a real account's
data."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archiver.providers.modules import DemoRun

EMULATOR_KNOBS: dict[str, str | int] = {}  # no emulator: an export only
QUERIES: tuple[tuple[str, str], ...] = ()


def steps(run: DemoRun) -> None:
    run.heading("Import a DeepSeek data export (told apart from the others by its shape)")
    run.import_export(deepseek_export(run.workdir / "deepseek-export.zip"))


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
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("conversations.json", json.dumps(conversations, indent=2))
        archive.writestr("user.json", json.dumps({"id": "demo"}))
    return path
