"""Secrets never leak: not into the database files, not into output (even --verbose), not into
error messages; database files are private."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys

import pytest

from archiver.emulator import running_emulator
from archiver.providers.bing.fake.generate import encrypted_signature, signature
from tests.support.fakes import fake_config

pytestmark = pytest.mark.slow

TOKEN = "archiver-test-SECRET-token-8c41f0"
COOKIE = "archiver-test-SECRET-cookie-55d2e9"
SEED = 13


@pytest.fixture(scope="module")
def emu():
    config = fake_config(
        seed=SEED, chatgpt_conversations=12, bing_chats=4, chatgpt_token=TOKEN, bing_cookie=COOKIE
    )
    with running_emulator(config) as running:
        yield running


def archiver(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "archiver", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def chatgpt_env(emu, token=TOKEN):
    return {"CHATGPT_ACCESS_TOKEN": token, "CHATGPT_BASE_URL": emu.chatgpt_base_url}


def bing_env(emu, cookie=COOKIE):
    return {"BING_COOKIE": cookie, "BING_BASE_URL": emu.base_url, "SYDNEY_BASE_URL": emu.base_url}


def files_of(db):
    found = []
    for p in db.parent.iterdir():
        if p.name.startswith(db.name):  # the database, its WAL, and the file store's files
            found += [f for f in p.rglob("*") if f.is_file()] if p.is_dir() else [p]
    return found


def test_verbose_runs_leak_no_credential_anywhere(emu, tmp_path):
    db = tmp_path / "a.db"
    outputs = [
        archiver("backup", "chatgpt", str(db), "-v", "--max-rpm", "60000", env=chatgpt_env(emu)),
        archiver("backup", "bing", str(db), "-v", "--max-rpm", "60000", env=bing_env(emu)),
    ]
    assert [o.returncode for o in outputs] == [0, 0], [o.stderr for o in outputs]
    # Bing hands out per-chat conversation signatures: credentials too.
    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM conversations WHERE provider = 'bing'")]
    assert ids, "bing chats were archived"
    secrets = (
        [TOKEN, COOKIE]
        + [signature(SEED, i) for i in ids]
        + [encrypted_signature(SEED, i) for i in ids]
    )
    for output in outputs:
        for secret in secrets:
            assert secret not in output.stdout + output.stderr
    for path in files_of(db):
        content = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in content, f"{secret[:12]}... found in {path.name}"
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path.name} is readable by others"


@pytest.mark.parametrize("provider", ["chatgpt", "bing"])
def test_a_refused_credential_is_not_echoed(emu, tmp_path, provider):
    wrong = "archiver-test-WRONG-credential-1e9b"
    env = chatgpt_env(emu, wrong) if provider == "chatgpt" else bing_env(emu, wrong)
    result = archiver("backup", provider, str(tmp_path / "a.db"), "-v", env=env)
    assert result.returncode == 2
    assert "refused" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert wrong not in result.stderr + result.stdout
