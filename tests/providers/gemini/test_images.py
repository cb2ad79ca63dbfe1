"""The images Gemini's answers show land in the file store: byte-exact, fetched with no cookie,
once; ``--no-files`` and ``--max-file-mb``; a refused image failed with its reason (a partial
run), and stored by the next run."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from werkzeug import Response

from archiver.backup.engine import BackupSummary
from archiver.backup.options import BackupRun, FileDownloads
from archiver.backup.public_files import files_rpm
from archiver.cli import cli
from archiver.config import Secret
from archiver.emulator import RunningEmulator, running_emulator
from archiver.providers import registry
from archiver.providers.gemini import parse
from archiver.providers.gemini.backup import backup_gemini
from archiver.providers.gemini.client import GeminiSettings
from archiver.providers.gemini.emulator import (
    IMAGE_ROUTE,
    IMAGES,
    GeminiEmulatorConfig,
    environment,
    image_bytes,
)
from archiver.providers.gemini.options import IMAGE_RPM
from archiver.store import open_db
from archiver.store.filestore import FileStore
from archiver.transport.pace import ClientPace
from tests.support.fakes import fake_config
from tests.support.transport import FAST

COOKIE = "SID=x; __Secure-1PSID=emulator-psid; __Secure-1PSIDTS=emulator-psidts"


def emulator(**knobs: Any) -> Any:
    config = fake_config(
        chatgpt_conversations=0,
        bing_chats=0,
        provider_configs={"gemini": GeminiEmulatorConfig(**knobs)},
    )
    return running_emulator(config)


def run(emu: RunningEmulator, db: Any, *, files: bool = True) -> BackupSummary:
    settings = GeminiSettings(Secret(COOKIE), base_url=emu.base_url)
    return asyncio.run(
        backup_gemini(
            db,
            settings,
            # unpaced, the images too: the emulator is local
            BackupRun(ClientPace(None, policy=FAST), files=FileDownloads(download=files)),
        )
    )


def image_requests(emu: RunningEmulator) -> list[dict[str, Any]]:
    return [e for e in emu.request_log if e["route"] == IMAGE_ROUTE]


def statuses(db: Any) -> dict[str | None, int]:
    rows = db.execute(
        "SELECT download_status, count(*) FROM attachments GROUP BY download_status"
    ).fetchall()
    return dict(rows)


def stored(db: Any) -> list[tuple[str, str, int]]:
    return db.execute(
        "SELECT asset_pointer, sha256, size_bytes FROM attachments WHERE download_status = 'stored'"
    ).fetchall()


def test_images_are_stored_byte_exact_once_without_a_cookie(tmp_path: Path) -> None:
    with emulator(chats=6) as emu:
        db = open_db(tmp_path / "a.db")
        first = run(emu, db)
        assert first.exit_code == 0, first.errors
        rows = stored(db)
        assert rows, "the emulator's answers show images"
        assert set(statuses(db)) == {"stored"}
        store = FileStore.for_database(tmp_path / "a.db")
        for pointer, sha256, size in rows:
            assert pointer.startswith(emu.base_url + IMAGES + "/")
            body = store.path_for(sha256).read_bytes()
            assert body == image_bytes(pointer.rsplit("/", 1)[1]) and len(body) == size
        fetched = image_requests(emu)
        assert len(fetched) == len({pointer for pointer, _, _ in rows})  # each image once
        # The emulator refuses (400) an image request carrying a Cookie: none did.
        assert {e["status"] for e in fetched} == {200}
        assert first.extra["images_stored"] == len(fetched)

        second = run(emu, db)
        assert second.exit_code == 0, second.errors
        assert second.extra["images_stored"] == 0
        assert image_requests(emu) == fetched  # nothing downloaded again


def test_no_cookie_reaches_another_image_host(tmp_path: Path, httpserver: Any) -> None:
    httpserver.expect_request(re.compile(r"/gg/.+")).respond_with_handler(
        lambda request: Response(image_bytes(request.path), content_type="image/png")
    )
    image_host = httpserver.url_for("/gg")
    with emulator(chats=6, image_host=image_host) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(emu, db)
        assert summary.exit_code == 0, summary.errors
        rows = stored(db)
        assert rows and all(pointer.startswith(image_host + "/") for pointer, _, _ in rows)
        store = FileStore.for_database(tmp_path / "a.db")
        for pointer, sha256, _ in rows:
            path = pointer.removeprefix(httpserver.url_for(""))
            assert store.path_for(sha256).read_bytes() == image_bytes("/" + path.lstrip("/"))
        seen = [request for request, _ in httpserver.log]
        assert len(seen) == len(rows)
        for request in seen:
            assert "Cookie" not in request.headers and "Authorization" not in request.headers
        assert image_requests(emu) == []  # the emulator served none itself


def test_no_files_downloads_nothing(tmp_path: Path) -> None:
    with emulator(chats=6) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(emu, db, files=False)
        assert summary.exit_code == 0, summary.errors
        assert image_requests(emu) == []
        assert statuses(db) and set(statuses(db)) == {None}
        assert "images_stored" not in summary.extra


def test_a_refused_image_fails_with_its_reason_and_is_stored_next_run(tmp_path: Path) -> None:
    with emulator(chats=6, refuse_images=1) as emu:
        db = open_db(tmp_path / "a.db")
        first = run(emu, db)
        assert first.exit_code == 3  # partial: one image to retry
        assert first.new == 6  # the chats were all saved
        assert first.extra["images_failed"] == 1
        assert first.extra["images_stored"] == len(image_requests(emu)) - 1
        [(pointer, error)] = db.execute(
            "SELECT asset_pointer, download_error FROM attachments WHERE download_status = 'failed'"
        ).fetchall()
        assert "403" in error and "forbidden" in error
        assert any("403" in line for line in first.errors)

        second = run(emu, db)
        assert second.exit_code == 0, second.errors
        assert (second.extra["images_stored"], second.extra["images_failed"]) == (1, 0)
        assert [e["path"] for e in image_requests(emu)].count(pointer.split(emu.base_url)[1]) == 2
        assert set(statuses(db)) == {"stored"}

        before = len(image_requests(emu))
        assert run(emu, db).exit_code == 0
        assert len(image_requests(emu)) == before


def test_file_options_are_flags_and_job_keys(tmp_path: Path) -> None:
    options = registry.get("gemini").backup
    assert options is not None
    assert {"no_files", "max_file_mb"} <= set(options.options)
    values = {"max_rpm": 20.0, "no_files": True, "max_file_mb": 0.5}
    assert FileDownloads.from_values(values) == FileDownloads(False, 512 * 1024)
    assert files_rpm(ClientPace(values["max_rpm"]), IMAGE_RPM) == 120.0
    with emulator(chats=6) as emu:
        db_path = tmp_path / "a.db"
        result = CliRunner().invoke(
            cli,
            ["backup", "gemini", str(db_path), "--max-rpm", "6000", "--max-file-mb", "0.00001"],
            env=environment(emu.base_url),
        )
        assert result.exit_code == 0, result.output
        db = open_db(db_path)
        assert set(statuses(db)) == {"too_large"}
        errors = {e for (e,) in db.execute("SELECT download_error FROM attachments")}
        assert all("larger than the limit of 10 bytes" in error for error in errors)
        again = CliRunner().invoke(
            cli, ["backup", "gemini", str(db_path), "--no-files"], env=environment(emu.base_url)
        )
        assert again.exit_code == 0, again.output


def test_image_urls_are_googles_hosts_or_the_emulators() -> None:
    assert parse.is_image_url("https://lh3.googleusercontent.com/gg/abc=s1024")
    assert parse.is_image_url("http://127.0.0.1:8000/_emulator/gemini/images/abc")
    assert not parse.is_image_url("http://googleusercontent.com/card_content/0")
    assert not parse.is_image_url("http://googleusercontent.com/image_generation_content/0")
    assert not parse.is_image_url("https://en.wikipedia.org/wiki/Kestrel")
