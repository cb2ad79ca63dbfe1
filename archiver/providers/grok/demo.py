"""Grok's part of ``make demo``: a small data export in the documented layout
(docs/protocol/grok.md), with a regenerated answer, thinking and a file, imported and told
apart from the other exports by its shape. Made up, not a real account's data."""

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
USER = "6b1e2f0a-0000-4000-8000-00000000demo"


def steps(run: DemoRun) -> None:
    run.heading("Import a Grok data export (told apart from the others by its shape)")
    run.import_export(grok_export(run.workdir / "grok-export.zip"))


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
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(root + "prod-grok-backend.json", json.dumps(backend, indent=2))
        archive.writestr(root + "prod-mc-auth-mgmt-api.json", json.dumps({"user": {}}))
        archive.writestr(root + "prod-mc-asset-server/asset-demo-1/content", PNG)
    return path
