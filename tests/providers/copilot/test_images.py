"""Copilot images land in the file store: fetched once, with no credential, citations left
alone, a gone image marked and not fetched again."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from archiver.backup.engine import BackupSummary
from archiver.backup.options import BackupRun, FileDownloads
from archiver.config import Secret
from archiver.emulator import RunningEmulator, running_emulator
from archiver.providers.copilot.backup import backup_copilot
from archiver.providers.copilot.client import CopilotSettings
from archiver.providers.copilot.fake.config import CopilotFakeConfig
from archiver.store import open_db
from archiver.store.filestore import FileStore
from archiver.transport.pace import ClientPace
from tests.support.fakes import fake_config
from tests.support.transport import FAST

TOKEN = CopilotFakeConfig().token
IMAGES = "/_emulator/copilot/images"


def run(emulator: RunningEmulator, db: Any, *, files: bool = True) -> BackupSummary:
    settings = CopilotSettings(Secret(TOKEN), base_url=emulator.base_url)
    return asyncio.run(
        backup_copilot(
            db,
            settings,
            # unpaced, the images too: the emulator is local
            BackupRun(ClientPace(None, policy=FAST), files=FileDownloads(download=files)),
        )
    )


def image_requests(emulator: RunningEmulator) -> list[dict[str, Any]]:
    return [e for e in emulator.request_log if e["path"].startswith(IMAGES)]


def statuses(db: Any) -> dict[str | None, int]:
    rows = db.execute(
        "SELECT download_status, count(*) FROM attachments GROUP BY download_status"
    ).fetchall()
    return dict(rows)


def test_images_are_stored_once_and_citations_skipped(tmp_path: Path) -> None:
    with running_emulator(
        fake_config(copilot_chats=30, chatgpt_conversations=0, bing_chats=0)
    ) as emu:
        db = open_db(tmp_path / "a.db")
        first = run(emu, db)
        assert first.exit_code == 0, first.errors
        stored = db.execute(
            "SELECT asset_pointer, sha256, size_bytes FROM attachments "
            "WHERE download_status = 'stored'"
        ).fetchall()
        assert stored, "the emulator's chats show images"
        store = FileStore.for_database(tmp_path / "a.db")
        for pointer, sha256, size in stored:
            assert IMAGES in pointer
            assert store.path_for(sha256).stat().st_size == size
        fetched = image_requests(emu)
        assert len(fetched) == len({p for p, _, _ in stored})  # each image once
        # The emulator refuses (400) an image request that carries a credential: none did.
        assert all(e["status"] == 200 for e in fetched)
        citations = db.execute(
            "SELECT count(*) FROM attachments WHERE asset_pointer LIKE 'https://example.org/%'"
        ).fetchone()[0]
        assert statuses(db).get("skipped", 0) >= citations > 0
        assert first.extra["images_stored"] == len(fetched)

        again = run(emu, db)
        assert again.exit_code == 0
        assert len(image_requests(emu)) == len(fetched)  # nothing fetched twice


def test_no_files_downloads_nothing(tmp_path: Path) -> None:
    with running_emulator(
        fake_config(copilot_chats=30, chatgpt_conversations=0, bing_chats=0)
    ) as emu:
        db = open_db(tmp_path / "a.db")
        assert run(emu, db, files=False).exit_code == 0
        assert image_requests(emu) == []
        assert set(statuses(db)) == {None}


def test_a_gone_image_is_marked_and_not_fetched_again(tmp_path: Path) -> None:
    with running_emulator(
        fake_config(copilot_chats=30, chatgpt_conversations=0, bing_chats=0)
    ) as emu:
        db = open_db(tmp_path / "a.db")
        assert run(emu, db, files=False).exit_code == 0
        pointer = db.execute(
            f"SELECT asset_pointer FROM attachments WHERE asset_pointer LIKE '%{IMAGES}/%' LIMIT 1"
        ).fetchone()[0]
        gone = pointer.replace(f"{IMAGES}/", f"{IMAGES}/gone-")
        db.execute(
            "UPDATE attachments SET asset_pointer = ? WHERE asset_pointer = ?", [gone, pointer]
        )
        db.execute("UPDATE messages SET raw_json = replace(raw_json, ?, ?)", [pointer, gone])
        first = run(emu, db)
        assert first.exit_code == 0
        assert (
            db.execute(
                "SELECT download_status FROM attachments WHERE asset_pointer = ?", [gone]
            ).fetchone()[0]
            == "gone"
        )
        before = len(image_requests(emu))
        run(emu, db)
        assert len(image_requests(emu)) == before
