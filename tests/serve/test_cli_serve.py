"""``archiver serve`` as a user starts it: a real process, its environment, SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import openai

from archiver.emulator import running_emulator
from tests.support.fakes import fake_config
from tests.support.gateway import http
from tests.support.transport import free_port


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.communicate()[0].decode())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("archiver serve never listened")


@contextmanager
def serve_process(
    db_path: Path, port: int, env: dict[str, str], *options: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``archiver serve DB --port PORT`` as a user starts it, listening; killed if the test
    leaves it running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "archiver", "serve", str(db_path), "--port", str(port), *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_listening(port, process)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def wait_running(db_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(db_path) as conn:
            if conn.execute("SELECT 1 FROM gateway_exchanges WHERE status = 'running'").fetchone():
                return
        time.sleep(0.05)
    raise AssertionError("no answer ever started")


def test_serve_answers_and_finishes_in_flight_answers_on_sigterm(tmp_path: Path) -> None:
    db_path = tmp_path / "a.db"
    add = subprocess.run(
        [sys.executable, "-m", "archiver", "keys", "add", str(db_path), "cli"],
        capture_output=True,
        check=True,
    )
    key = add.stdout.decode().strip()
    port = free_port()
    config = fake_config(chatgpt_conversations=0, bing_chats=0)
    token, cookie = config.provider("chatgpt").token, config.provider("bing").cookie
    with running_emulator(config) as emu:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CHATGPT_", "BING_", "SYDNEY_"))
        }
        env.update(
            CHATGPT_ACCESS_TOKEN=token,
            CHATGPT_BASE_URL=emu.chatgpt_base_url,
            BING_COOKIE=cookie,
            BING_BASE_URL=emu.base_url,
            SYDNEY_BASE_URL=emu.base_url,
        )
        # Unpaced (the emulator does not throttle): the answers wait on nothing but latency.
        with serve_process(db_path, port, env, "--max-rpm", "60000") as process:
            base = f"http://127.0.0.1:{port}"
            api = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
            models = [m.id for m in api.models.list().data]
            assert models == ["auto", "bing/Balanced", "bing/Creative", "bing/Precise"]
            answer = api.chat.completions.create(
                model="auto", messages=[{"role": "user", "content": "Hello from the CLI"}]
            )
            assert "Hello from the CLI" in (answer.choices[0].message.content or "")
            assert http("GET", base + "/").status == 200  # the viewer, no key on loopback
            # An answer in flight when SIGTERM comes is finished, delivered and archived.
            emu.state.config.latency_ms = 300
            with ThreadPoolExecutor(max_workers=1) as pool:
                slow = pool.submit(
                    lambda: api.chat.completions.create(
                        model="auto",
                        messages=[{"role": "user", "content": "Answer me before you stop"}],
                    )
                )
                wait_running(db_path)
                process.send_signal(signal.SIGTERM)
                late = slow.result(timeout=60)
            out, _ = process.communicate(timeout=60)
    assert "Answer me before you stop" in (late.choices[0].message.content or "")
    assert process.returncode == 0, out.decode()
    log = out.decode()
    assert "Traceback" not in log
    # Stopped, it says what each account did: both answers, nothing refused.
    assert "gateway chatgpt: admitted 2, answered 2, failed 0, refused 0," in log
    assert "gateway bing: admitted 0," in log
    for secret in (key, token, cookie):
        assert secret not in log
    with sqlite3.connect(db_path) as conn:
        statuses = conn.execute("SELECT status FROM gateway_exchanges ORDER BY id").fetchall()
    assert statuses == [("done",), ("done",)]


def test_serve_without_credentials_warns_and_serves_the_archive(tmp_path: Path) -> None:
    db_path = tmp_path / "a.db"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHATGPT_", "BING_"))}
    with serve_process(db_path, port, env) as process:
        assert http("GET", f"http://127.0.0.1:{port}/").status == 200
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "no account credentials found" in out.decode()


def _serve_cli(monkeypatch, *args: str):
    """``archiver serve`` in-process, with the server itself replaced: what it would serve is
    recorded, nothing listens."""
    from click.testing import CliRunner

    from archiver.cli import cli

    started: list[dict[str, object]] = []
    monkeypatch.setattr(
        "archiver.serve.app.serve", lambda db, options, settings, **_: started.append(settings)
    )
    for name in list(os.environ):
        if name.startswith(("CHATGPT_", "BING_", "COPILOT_")):
            monkeypatch.delenv(name)
    return CliRunner().invoke(cli, ["serve", *args]), started


def test_serve_refuses_a_bad_credential_file(tmp_path: Path, monkeypatch) -> None:
    db = str(tmp_path / "a.db")
    loose = tmp_path / "token"
    loose.write_text("secret-token\n")
    loose.chmod(0o644)
    for flag in ("--token-file", "--cookie-file", "--copilot-token-file"):
        for value in (str(tmp_path / "missing"), str(loose), "eyJhbGciOi.pasted.token"):
            result, started = _serve_cli(monkeypatch, db, flag, value)
            assert result.exit_code == 2, (flag, value, result.output)
            assert started == [] and "Traceback" not in result.output
            assert "pasted" not in result.output  # a token given by mistake is never echoed


def test_serve_without_credentials_still_serves_the_archive(tmp_path: Path, monkeypatch) -> None:
    result, started = _serve_cli(monkeypatch, str(tmp_path / "a.db"))
    assert result.exit_code == 0, result.output
    assert started == [{}] and "only the read API and the viewer" in result.output


def test_serve_does_not_create_a_missing_directory(tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "typo" / "a.db"
    result, started = _serve_cli(monkeypatch, str(db))
    assert result.exit_code == 2 and "does not exist" in result.output
    assert started == [] and not db.parent.exists()


def test_allowed_host_flags_reach_the_gateway(tmp_path: Path, monkeypatch) -> None:
    """``--allowed-host`` (repeatable) is what the Host check answers to besides the address."""
    from click.testing import CliRunner

    from archiver.cli import cli

    options: list[object] = []
    monkeypatch.setattr(
        "archiver.serve.app.serve", lambda db, opts, settings, **_: options.append(opts)
    )
    args = ["serve", str(tmp_path / "a.db"), "--allowed-host", "archive.lan"]
    result = CliRunner().invoke(cli, [*args, "--allowed-host", "nas.local"])
    assert result.exit_code == 0, result.output
    [served] = options
    assert tuple(served.allowed_hosts) == ("archive.lan", "nas.local")  # type: ignore[attr-defined]
