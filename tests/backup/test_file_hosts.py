"""Issue 27: file downloads against a hostile network. A file host that cannot be reached is
given up on after a few connection failures (its files recorded failed, counted as deferred,
retried next run) instead of costing every file its retries one at a time; a download that
stalls is that file's failure, not a disk error that stops the phase. Every provider's files
take the same path (backup.downloads)."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from archiver.backup.engine import BackupOptions
from archiver.backup.options import BackupRun
from archiver.config import Secret
from archiver.emulator import running_emulator
from archiver.errors import EXIT_OK, EXIT_PARTIAL, HostUnreachable, UnreachableError
from archiver.providers.chatgpt.backup import backup_chatgpt
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.providers.chatgpt.fake.config import ChatGPTFakeConfig
from archiver.providers.copilot.backup import backup_copilot
from archiver.providers.copilot.client import CopilotSettings
from archiver.providers.copilot.fake.config import CopilotFakeConfig
from archiver.store import open_db
from archiver.transport.http import HostBreaker
from archiver.transport.pace import ClientPace
from tests.support.fakes import fake_config
from tests.support.transport import FAST, free_port

CHATGPT_WORLD: dict[str, Any] = {"chatgpt_conversations": 24, "seed": 5}
COPILOT_WORLD: dict[str, Any] = {
    "copilot_chats": 30,
    "chatgpt_conversations": 0,
    "bing_chats": 0,
}


@contextmanager
def file_host(port: int, handler: Any = None) -> Iterator[HTTPServer]:
    """The file host back on ``port``: any path answers some bytes (or ``handler``)."""
    server = HTTPServer(host="127.0.0.1", port=port, threaded=True)
    server.expect_request(re.compile(r"^/.+")).respond_with_handler(
        handler or (lambda request: Response(f"bytes of {request.path}", mimetype="image/png"))
    )
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


def backup_chatgpt_files(emu: Any, db: Any, *, timeout: float = 120.0) -> Any:
    settings = ChatGPTSettings(
        base_url=emu.chatgpt_base_url, token=Secret(ChatGPTFakeConfig().token)
    )
    return asyncio.run(
        backup_chatgpt(
            db,
            settings,
            options=BackupOptions(concurrency=2),
            pace=ClientPace(None, policy=FAST, timeout_seconds=timeout),
            snapshot=False,
        )
    )


def backup_copilot_images(emu: Any, db: Any) -> Any:
    settings = CopilotSettings(Secret(CopilotFakeConfig().token), base_url=emu.base_url)
    return asyncio.run(
        backup_copilot(
            db,
            settings,
            # unpaced, the images too: the hosts are local
            BackupRun(ClientPace(None, policy=FAST), BackupOptions(concurrency=2)),
        )
    )


def file_rows(db: Any, host: str) -> list[tuple[str, str, str]]:
    return db.execute(
        "SELECT asset_pointer, download_status, download_error FROM attachments "
        "WHERE asset_pointer LIKE ? OR download_error LIKE ?",
        [f"{host}%", f"%{host}%"],
    ).fetchall()


def test_a_host_is_given_up_on_after_a_few_connection_failures_in_a_row():
    hosts = HostBreaker(limit=3)
    refused = UnreachableError("GET /a: connection to cdn.example failed (ClientConnectorError)")
    for _ in range(2):
        hosts.failed("https://cdn.example/a.png", refused)
    hosts.answered("https://cdn.example/b.png")  # an answer: the count starts again
    for _ in range(2):
        hosts.failed("https://cdn.example/c.png", refused)
    hosts.check("https://cdn.example/d.png")
    hosts.check("https://other.example/d.png")
    hosts.failed("https://cdn.example/e.png", refused)
    with pytest.raises(HostUnreachable, match=r"cdn\.example not asked again this run after 3"):
        hosts.check("https://cdn.example/f.png?sig=1")
    hosts.check("https://other.example/f.png")  # only that host


def test_copilot_images_on_an_unreachable_host_are_deferred_then_retried(tmp_path: Path):
    port = free_port()
    cdn = f"http://127.0.0.1:{port}"
    with running_emulator(fake_config(**COPILOT_WORLD, copilot_image_host=f"{cdn}/images")) as emu:
        db = open_db(tmp_path / "a.db")
        first = backup_copilot_images(emu, db)
        images = {row[0] for row in file_rows(db, cdn)}
        assert len(images) > 10
        assert first.exit_code == EXIT_PARTIAL
        counts = first.extra
        assert counts["images_stored"] == 0
        assert counts["images_failed"] <= 2  # the files whose tries tripped the breaker
        assert counts["images_deferred"] == len(images) - counts["images_failed"]
        assert "images_deferred" in first.line()
        for _, status, error in file_rows(db, cdn):
            assert status == "failed" and error
        deferred = [e for _, _, e in file_rows(db, cdn) if e and "not asked again" in e]
        assert len(deferred) >= len(images) - 2
        assert all(f"127.0.0.1:{port}" in e and "retried next run" in e for e in deferred)
        with file_host(port):  # the host is back: the next run fetches them
            second = backup_copilot_images(emu, db)
        assert second.exit_code == EXIT_OK, second.errors
        assert second.extra["images_stored"] == len(images)
        assert {status for _, status, _ in file_rows(db, cdn)} == {"stored"}


def test_chatgpt_files_on_an_unreachable_host_are_deferred_then_retried(tmp_path: Path):
    port = free_port()
    with running_emulator(
        fake_config(**CHATGPT_WORLD, chatgpt_file_url_base=f"http://127.0.0.1:{port}/")
    ) as emu:
        db = open_db(tmp_path / "a.db")
        first = backup_chatgpt_files(emu, db)
        assert first.exit_code == EXIT_PARTIAL
        assert first.new == 24  # the conversations are all there
        pointed = first.extra["files_pointed"]
        assert pointed > 5
        assert first.extra["files_stored"] == 0
        assert first.extra["files_failed"] <= 2
        assert first.extra["files_deferred"] == pointed - first.extra["files_failed"]
        with file_host(port):
            second = backup_chatgpt_files(emu, db)
        assert second.exit_code == EXIT_OK, second.errors
        assert second.extra["files_stored"] == pointed


def test_a_stalled_download_fails_alone_and_is_retried_next_run(tmp_path: Path):
    """The download sends 5 of 100 bytes, then idles: that file times out and is recorded
    failed; the others are stored; the next run fetches it."""
    stalled: list[str] = []
    release = threading.Event()

    def stall_one(request: Request) -> Response:
        if not stalled:
            stalled.append(request.path)
        if request.path != stalled[0] or release.is_set():
            return Response(f"bytes of {request.path}", mimetype="image/png")

        def trickle() -> Iterator[bytes]:
            yield b"12345"
            release.wait(30)

        return Response(trickle(), mimetype="image/png", headers={"Content-Length": "100"})

    port = free_port()
    with (
        file_host(port, stall_one),
        running_emulator(
            fake_config(**CHATGPT_WORLD, chatgpt_file_url_base=f"http://127.0.0.1:{port}/")
        ) as emu,
    ):
        db = open_db(tmp_path / "a.db")
        try:
            first = backup_chatgpt_files(emu, db, timeout=0.5)
        finally:
            release.set()
        assert first.exit_code == EXIT_PARTIAL, first.errors
        assert first.aborted is None  # the phase went on: not a disk error
        assert first.extra["files_failed"] == 1, first.errors
        assert first.extra["files_stored"] == first.extra["files_pointed"] - 1
        [error] = [e for e in first.errors if "timed out" in e]
        assert "cannot store" not in error
        failed = db.execute(
            "SELECT download_error FROM attachments WHERE download_status = 'failed'"
        ).fetchall()
        assert failed and all("timed out" in row[0] for row in failed)
        second = backup_chatgpt_files(emu, db, timeout=0.5)
        assert second.exit_code == EXIT_OK, second.errors
        assert second.extra["files_stored"] == 1


def test_files_download_concurrently_within_the_backups_concurrency(tmp_path: Path):
    """The first download is held until a second one is in flight: one download at a time
    would never let it go (and the run would see at most one in flight). No more than
    ``--concurrency`` are ever in flight."""
    lock = threading.Lock()
    in_flight = 0
    most = 0
    overlapped = threading.Event()

    def overlapping(request: Request) -> Response:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
            if in_flight >= 2:
                overlapped.set()
        try:
            overlapped.wait(10)
            return Response(f"bytes of {request.path}", mimetype="image/png")
        finally:
            with lock:
                in_flight -= 1

    port = free_port()
    with (
        file_host(port, overlapping),
        running_emulator(
            fake_config(**CHATGPT_WORLD, chatgpt_file_url_base=f"http://127.0.0.1:{port}/")
        ) as emu,
    ):
        summary = backup_chatgpt_files(emu, open_db(tmp_path / "a.db"))
    assert summary.exit_code == EXIT_OK, summary.errors
    assert summary.extra["files_stored"] == summary.extra["files_pointed"] > 5
    assert overlapped.is_set() and most == 2  # BackupOptions(concurrency=2)
