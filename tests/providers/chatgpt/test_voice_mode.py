"""Issue 27: Advanced Voice nests the user's audio one level down
(``real_time_user_audio_video_asset_pointer`` → ``audio_asset_pointer``, with the camera's
``frames_asset_pointers`` and ``video_container_asset_pointer`` in video mode). Only the
assistant's audio, directly in the parts, used to be found: neither the live backup nor the
import stored the rest. Every pointer, however deep, is stored now, and the transcriptions
stay the messages' text.

The fixture (tests/fixtures/chatgpt/voice_2026.json) is one conversation as the 2026 API
serves it: a spoken question, a video-mode question (two frames and the video), the spoken
answers, then typed text. It points at 7 files; only 2 (the answers' audio) were stored."""

from __future__ import annotations

import asyncio
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from archiver.backup.engine import BackupOptions
from archiver.config import Secret
from archiver.providers.chatgpt.backup import backup_chatgpt
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.providers.chatgpt.export.run import import_export
from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.providers.chatgpt.flatten_raw import flatten_entry
from archiver.store import open_db
from archiver.store.filestore import FileStore
from archiver.transport.pace import ClientPace
from tests.support.fake_chatgpt import TOKEN, FakeChatGPT
from tests.support.helpers import FIXTURES
from tests.support.transport import FAST

FIXTURE = FIXTURES / "chatgpt" / "voice_2026.json"
CID = "6912a0c4-5d3e-8009-b1f2-3c4d5e6f7a8b"
TRANSCRIPTS = {
    "Can you hear me? I want to practise my Spanish.",
    "¡Claro que sí! Empecemos con algo sencillo.",
    "What is this plant on my desk?",
    "It looks like a pothos. It likes indirect light.",
}


def served() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def pointed_file_ids() -> set[str]:
    """Every file the fixture points at, read off its text (independently of the flattener)."""
    text = FIXTURE.read_text(encoding="utf-8")
    return set(re.findall(r'"asset_pointer": "sediment://(file_[0-9a-f]+)"', text))


def stored_file_ids(db: Any, store: FileStore) -> set[str]:
    rows = db.execute(
        "SELECT asset_pointer, sha256 FROM attachments WHERE download_status = 'stored'"
    ).fetchall()
    return {p.split("://")[-1] for p, sha in rows if sha and store.path_for(sha).is_file()}


def test_the_fixture_points_at_seven_files():
    assert len(pointed_file_ids()) == 7


@pytest.mark.parametrize("path", ["live", "export fast path"])
def test_every_nested_pointer_is_an_attachment_and_transcripts_are_text(path):
    conversation = served()
    if path == "live":
        flat = flatten_conversation(conversation, requested_id=CID)
    else:
        flat = flatten_entry(json.dumps({**conversation, "id": CID}).encode())
    pointers = {a["asset_pointer"].split("://")[-1] for a in flat.attachments}
    assert pointers == pointed_file_ids()
    by_pointer = {a["asset_pointer"][-3:]: a for a in flat.attachments}
    assert by_pointer["001"]["mime_type"] == "audio/wav"  # the user's nested audio
    assert by_pointer["006"]["mime_type"] == "video/mp4"  # the video container
    assert by_pointer["004"]["size_bytes"] == 41234  # a camera frame
    texts = "\n".join(m["text"] or "" for m in flat.messages)
    assert all(transcript in texts for transcript in TRANSCRIPTS)


def test_live_backup_stores_every_file_of_a_voice_conversation(tmp_path: Path, httpserver):
    fake = FakeChatGPT()
    base_url = fake.install(httpserver)
    fake.conversations[CID] = {**served(), "id": CID}
    fake.files = {ident: f"bytes of {ident}".encode() for ident in pointed_file_ids()}
    db = open_db(tmp_path / "a.db")
    summary = asyncio.run(
        backup_chatgpt(
            db,
            ChatGPTSettings(base_url=base_url, token=Secret(TOKEN)),
            options=BackupOptions(),
            pace=ClientPace(None, policy=FAST),
            snapshot=False,
        )
    )
    assert summary.exit_code == 0, summary.errors
    store = FileStore.for_database(tmp_path / "a.db")
    assert summary.extra["files_pointed"] == 7
    assert stored_file_ids(db, store) == pointed_file_ids()
    assert summary.extra["files_stored"] == 7


def test_import_stores_every_file_of_a_voice_conversation(tmp_path: Path):
    """The export holds the audio in the conversation's folder, the frames under the user's."""
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as zf:
        zf.writestr("conversations.json", json.dumps([{**served(), "id": CID}]))
        for n, ident in enumerate(sorted(pointed_file_ids())):
            folder = f"user-abc123/{ident}-frame{n}.jpg" if n in (3, 4) else None
            folder = folder or f"{CID}/audio/{ident}-9c5e4a1b-{n:04d}.wav"
            zf.writestr(folder, f"bytes of {ident}")
    db = open_db(tmp_path / "a.db")
    summary = import_export(db, export)
    assert summary.exit_code == 0, summary.errors
    store = FileStore.for_database(tmp_path / "a.db")
    assert stored_file_ids(db, store) == pointed_file_ids()
    assert summary.files_stored == 7
