"""One run per database: the lock is taken before the database is even opened."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.errors import EXIT_LOCKED, LockedError
from archiver.store.lock import database_lock, lock_path
from tests.support.jobhelpers import write_job

pytestmark = pytest.mark.slow  # a lock holder in another process

HOLDER = textwrap.dedent(
    """
    import sys
    from archiver.store.lock import database_lock
    with database_lock(sys.argv[1]):
        print("locked", flush=True)
        sys.stdin.read()  # hold the lock until the test closes our stdin
    """
)


@pytest.fixture
def held_lock(tmp_path):
    """Another process holding the lock of tmp_path/archive.db."""
    db_path = tmp_path / "archive.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield db_path
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)


def test_run_exits_75_without_touching_the_database(tmp_path, held_lock, monkeypatch):
    monkeypatch.setenv("CHATGPT_ACCESS_TOKEN", "t")
    job = write_job(
        tmp_path,
        kind="backup chatgpt",
        db="archive.db",
        base_url="http://127.0.0.1:9/backend-api",  # never called
    )
    result = CliRunner().invoke(cli, ["run", str(job)])
    assert result.exit_code == EXIT_LOCKED
    assert f"another archiver run is using {held_lock}" in result.output
    assert not held_lock.exists()
    assert not held_lock.with_name("archive.db-wal").exists()


def test_backup_command_exits_75_without_touching_the_database(held_lock, monkeypatch):
    monkeypatch.setenv("CHATGPT_ACCESS_TOKEN", "t")
    monkeypatch.setenv("CHATGPT_BASE_URL", "http://127.0.0.1:9/backend-api")
    result = CliRunner().invoke(cli, ["backup", "chatgpt", str(held_lock)])
    assert result.exit_code == EXIT_LOCKED
    assert "another archiver run is using" in result.output
    assert not held_lock.exists()


def test_lock_is_exclusive_and_released(tmp_path):
    db_path = tmp_path / "sub" / "archive.db"
    db_path.parent.mkdir()
    with database_lock(db_path) as path:
        assert path == lock_path(db_path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with pytest.raises(LockedError), database_lock(db_path):
            pass
    with database_lock(db_path):  # released: can be taken again
        pass
    assert not db_path.exists()


def test_lock_is_released_when_the_holder_is_killed(tmp_path):
    db_path = tmp_path / "archive.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    with pytest.raises(LockedError):
        database_lock(db_path).__enter__()
    holder.kill()
    holder.wait(timeout=10)
    with database_lock(db_path):
        pass


WRITING_COMMANDS = {
    "reflatten": ["reflatten", "{db}"],
    "titles": ["titles", "{db}"],
    "shared --refresh": ["shared", "{db}", "--refresh"],
    "request-export": ["request-export", "{db}"],
    "import": ["import", "{db}", "{export}"],
    "backup chatgpt": ["backup", "chatgpt", "{db}"],
    "backup bing": ["backup", "bing", "{db}"],
    "backup copilot": ["backup", "copilot", "{db}"],
}


@pytest.mark.parametrize("name", sorted(WRITING_COMMANDS))
def test_every_writing_command_exits_75_without_touching_the_database(
    name, tmp_path, held_lock, monkeypatch
):
    from archiver.store import open_db

    for var in ("CHATGPT_ACCESS_TOKEN", "BING_COOKIE", "COPILOT_ACCESS_TOKEN"):
        monkeypatch.setenv(var, "t")
    for var in ("CHATGPT_BASE_URL", "BING_BASE_URL", "SYDNEY_BASE_URL", "COPILOT_BASE_URL"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # never called
    open_db(held_lock).close()  # an existing archive (opening it takes no lock)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    export = tmp_path.parent / f"{tmp_path.name}-conversations.json"
    export.write_text("[]", encoding="utf-8")
    args = [a.format(db=held_lock, export=export) for a in WRITING_COMMANDS[name]]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == EXIT_LOCKED, result.output
    assert "another archiver run is using" in result.output
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before
