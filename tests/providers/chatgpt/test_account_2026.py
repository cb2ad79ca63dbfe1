"""A 2026 ChatGPT account, end to end against the emulator: session-cookie sign-in, browser
headers, Projects, files, canvas documents, and the faults of issue 14."""

from __future__ import annotations

import asyncio
import errno
import json
import math
import stat
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.backup.engine import BackupOptions
from archiver.backup.options import FileDownloads
from archiver.cli import cli
from archiver.config import Secret
from archiver.emulator import running_emulator
from archiver.errors import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, EXIT_PARTIAL
from archiver.providers.chatgpt.backup import ChatGPTExtras, backup_chatgpt
from archiver.providers.chatgpt.browser import BrowserProfile
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.providers.chatgpt.fake.config import ChatGPTFakeConfig
from archiver.providers.chatgpt.fake.world import world_of as chatgpt_world
from archiver.providers.chatgpt.session import SessionAuth
from archiver.store import filestore, open_db
from archiver.store.filestore import FileStore
from archiver.transport.curl import curl_cffi_available
from archiver.transport.pace import ClientPace
from tests.support.fakes import fake_config
from tests.support.transport import FAST

COOKIE = ChatGPTFakeConfig().session_cookie
WORLD = {
    "chatgpt_conversations": 24,
    "chatgpt_projects": 3,
    "chatgpt_project_conversations": 3,
    "seed": 5,
}


def session_settings(emu, cookie=COOKIE, *, session_file=None, user_agent=None, **kw):
    auth = (
        SessionAuth(Secret(cookie), session_file=session_file, margin_seconds=0)
        if session_file is None
        else SessionAuth(Secret(Path(session_file).read_text().strip()), session_file=session_file)
    )
    return ChatGPTSettings(
        base_url=emu.chatgpt_base_url,
        session=auth,
        browser=BrowserProfile(user_agent=user_agent) if user_agent else BrowserProfile(),
        **kw,
    )


def run(db, settings, *, concurrency=3, full=False, extras=None, store=None):
    extras = extras or ChatGPTExtras()
    extras = replace(extras, files=replace(extras.files, store=store))
    return asyncio.run(
        backup_chatgpt(
            db,
            settings,
            options=BackupOptions(full=full, concurrency=concurrency),
            pace=ClientPace(None, policy=FAST),
            snapshot=False,
            extras=extras,
        )
    )


def control(emu, path):
    request = urllib.request.Request(f"{emu.base_url}/_emulator/{path}", method="POST")
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def routes(emu, name):
    return [e for e in emu.request_log if e["route"].endswith(name)]


def env_for(emu, **extra):
    return {"CHATGPT_BASE_URL": emu.chatgpt_base_url, "CHATGPT_ACCESS_TOKEN": "", **extra}


# -- the whole account -----------------------------------------------------------------------


@pytest.mark.parametrize("cursor_form", ["string", "number"])
def test_session_sign_in_archives_projects_files_and_canvas(tmp_path, cursor_form):
    with running_emulator(
        fake_config(**WORLD, chatgpt_cursor_form=cursor_form, chatgpt_challenge_script_agents=True)
    ) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(db, session_settings(emu))
        assert summary.exit_code == EXIT_OK, summary.errors
        assert summary.extra["projects"] == 3

        projects = db.execute("SELECT id, name, emoji FROM projects ORDER BY name").fetchall()
        assert len(projects) == 3 and all(p[0].startswith("g-p-") and p[1] for p in projects)
        in_projects = db.execute(
            "SELECT count(*) FROM conversations WHERE gizmo_id LIKE 'g-p-%'"
        ).fetchone()[0]
        assert in_projects == 9  # 3 projects x 3 chats, none of them in the main list
        total = db.execute("SELECT count(*) FROM conversations").fetchone()[0]
        assert total == 24 + 9

        # Every pointer became a stored file (or a recorded answer), content-addressed.
        statuses = dict(
            db.execute(
                "SELECT download_status, count(*) FROM attachments GROUP BY download_status"
            ).fetchall()
        )
        assert set(statuses) <= {"stored", None}  # None: pointers that are not file ids
        store = FileStore.for_database(tmp_path / "a.db")
        for sha256, size in db.execute(
            "SELECT sha256, size_bytes FROM attachments WHERE download_status = 'stored'"
        ):
            assert store.path_for(sha256).stat().st_size == size
        assert summary.extra["files_stored"] > 0
        assert (
            summary.extra["files_stored"] + summary.extra["files_reused"]
            == summary.extra["files_pointed"]
        )

        # Canvas documents: only conversations with canvas messages were asked, every version kept.
        asked = {e["path"].split("/")[3] for e in routes(emu, "/textdocs")}
        with_canvas = {
            row[0]
            for row in db.execute(
                "SELECT DISTINCT conversation_id FROM messages WHERE recipient LIKE 'canmore.%'"
            )
        }
        assert asked == with_canvas and asked
        versions = db.execute("SELECT DISTINCT version FROM textdocs").fetchall()
        assert sorted(v[0] for v in versions) == [1, 2]

        # One device id per account, kept; a browser User-Agent got past the challenge option.
        device = db.execute(
            "SELECT value FROM account_state WHERE key = 'oai-device-id'"
        ).fetchone()
        assert device and len(device[0]) == 36
        assert chatgpt_world(emu.state).session_count == 1


def test_no_change_run_makes_three_plus_projects_requests(tmp_path):
    with running_emulator(fake_config(**WORLD)) as emu:
        db = open_db(tmp_path / "a.db")
        settings = session_settings(emu)
        run(db, settings)
        before = len(emu.request_log)
        second = run(db, settings)
        made = emu.request_log[before:]
        # main list + archived list + sidebar page(s) + one page per project; no detail, no file.
        sidebar_pages = math.ceil(3 / ChatGPTFakeConfig().sidebar_page_size)
        assert len(made) == 2 + sidebar_pages + 3, [e["path"] for e in made]
        assert second.fetched == 0 and second.extra["files_stored"] == 0


def test_gone_files_are_recorded_and_not_asked_again(tmp_path):
    with running_emulator(fake_config(**WORLD, chatgpt_gone_file_rate=0.5)) as emu:
        db = open_db(tmp_path / "a.db")
        settings = session_settings(emu)
        first = run(db, settings)
        assert first.exit_code == EXIT_OK
        assert first.extra["files_gone"] > 0 and first.extra["files_stored"] > 0
        before = len(emu.request_log)
        run(db, settings)
        assert not [e for e in emu.request_log[before:] if "/files/" in e["path"]]


# -- sign-in ----------------------------------------------------------------------------------


def test_a_whole_cookie_header_with_chunks_signs_in():
    half = len(COOKIE) // 2
    header = (
        f"oai-did=abc; __Secure-next-auth.session-token.1={COOKIE[half:]}; "
        f"__Secure-next-auth.session-token.0={COOKIE[:half]}; _cfuvid=x"
    )
    assert SessionAuth(Secret(header)).cookie_header().endswith("=" + COOKIE)


def test_refused_session_exits_2_and_keeps_the_archive(tmp_path):
    with running_emulator(fake_config(**WORLD)) as emu:
        db_path = tmp_path / "a.db"
        run(open_db(db_path), session_settings(emu))
        kept = open_db(db_path).execute("SELECT count(*) FROM conversations").fetchone()[0]
        env = env_for(emu, CHATGPT_SESSION_TOKEN="signed-out-cookie")
        result = CliRunner().invoke(
            cli, ["backup", "chatgpt", "--no-snapshot", str(db_path)], env=env
        )
        assert result.exit_code == EXIT_CONFIG
        assert (
            "the ChatGPT session cookie was refused (signed out or expired): copy a fresh one"
            in result.output
        )
        assert "signed-out-cookie" not in result.output
        assert open_db(db_path).execute("SELECT count(*) FROM conversations").fetchone()[0] == kept


def test_token_expiring_mid_run_with_4_workers_is_refreshed_once_per_expiry(tmp_path):
    uses = 7
    with running_emulator(
        fake_config(**WORLD, chatgpt_token_uses=uses, chatgpt_rotate_session_cookie=False)
    ) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(
            db,
            session_settings(emu),
            concurrency=4,
            extras=ChatGPTExtras(files=FileDownloads(download=False)),
        )
        assert summary.exit_code == EXIT_OK, summary.errors
        served = [
            e
            for e in emu.request_log
            if e["path"].startswith("/backend-api/") and e["status"] != 401
        ]
        expired = [e for e in emu.request_log if e["status"] == 401]
        assert expired  # the token did run out mid-run
        # One refresh per expiry for all 4 workers: every token served all its uses.
        assert chatgpt_world(emu.state).session_count == math.ceil(len(served) / uses)
        assert db.execute("SELECT count(*) FROM conversations").fetchone()[0] == 33


def test_renewed_cookie_is_written_back_atomically_0600(tmp_path):
    session_file = tmp_path / "session"
    session_file.write_text(COOKIE + "\n")
    session_file.chmod(0o600)
    with running_emulator(fake_config(chatgpt_conversations=3)) as emu:
        settings = session_settings(emu, session_file=session_file)
        run(open_db(tmp_path / "a.db"), settings)
        renewed = session_file.read_text().strip()
        assert renewed != COOKIE and renewed in chatgpt_world(emu.state).session_cookies
        assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".session")] == []


def test_a_symlinked_session_file_is_written_through_the_link(tmp_path):
    # Dotfile managers keep the real file elsewhere and link to it: the link must stay a link
    # and its target must get the renewed cookie (not a stale copy left behind).
    (tmp_path / "secrets").mkdir()
    target = tmp_path / "secrets" / "chatgpt-session"
    target.write_text(COOKIE + "\n")
    target.chmod(0o600)
    link = tmp_path / "session"
    link.symlink_to(target)
    with running_emulator(fake_config(chatgpt_conversations=3)) as emu:
        run(open_db(tmp_path / "a.db"), session_settings(emu, session_file=link))
        renewed = target.read_text().strip()
        assert renewed != COOKIE and renewed in chatgpt_world(emu.state).session_cookies
    assert link.is_symlink() and link.resolve() == target
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    leftovers = [
        p.name for d in (tmp_path, target.parent) for p in d.iterdir() if p.name.startswith(".")
    ]
    assert leftovers == []


def test_cli_session_file_and_options(tmp_path):
    session_file = tmp_path / "session"
    session_file.write_text(f"__Secure-next-auth.session-token={COOKIE}; other=1")
    session_file.chmod(0o600)
    with running_emulator(fake_config(**WORLD, chatgpt_file_size_bytes=40_000)) as emu:
        db = tmp_path / "a.db"
        args = ["backup", "chatgpt", "--no-snapshot", "--max-rpm", "60000"]
        args += ["--session-file", str(session_file)]
        result = CliRunner().invoke(
            cli, [*args, "--max-file-mb", "0.01", str(db)], env=env_for(emu)
        )
        assert result.exit_code == EXIT_OK, result.output
        assert "files_too_large" in result.output
        rows = open_db(db).execute("SELECT DISTINCT download_status FROM attachments").fetchall()
        assert {"too_large"} <= {r[0] for r in rows} and ("stored",) not in rows
        result = CliRunner().invoke(cli, [*args, "--no-files", str(db)], env=env_for(emu))
        assert result.exit_code == EXIT_OK, result.output
        assert "files_stored" not in result.output


# -- browser manners ----------------------------------------------------------------------------


def test_cloudflare_page_for_a_script_user_agent_exits_3_with_what_to_try(tmp_path):
    with running_emulator(fake_config(**WORLD, chatgpt_challenge_script_agents=True)) as emu:
        env = env_for(emu, CHATGPT_SESSION_TOKEN=COOKIE)
        args = ["backup", "chatgpt", "--no-snapshot", "--user-agent", "python-requests/2.32"]
        result = CliRunner().invoke(cli, [*args, str(tmp_path / "a.db")], env=env)
        assert result.exit_code == EXIT_PARTIAL
        assert "challenge" in result.output and "--user-agent" in result.output
        assert "curl_cffi" in result.output and "Traceback" not in result.output


def test_bearer_never_goes_to_another_host(tmp_path, httpserver):
    seen = []

    def handler(request):
        from werkzeug import Response

        seen.append(dict(request.headers))
        return Response(b"signed bytes", mimetype="image/png")

    httpserver.expect_request("/files/", method="GET").respond_with_handler(handler)
    # pytest-httpserver matches the path exactly: serve every /files/<id> path.
    import re

    httpserver.expect_request(re.compile(r"^/files/.+")).respond_with_handler(handler)
    with running_emulator(
        fake_config(**WORLD, chatgpt_file_url_base=httpserver.url_for("/"))
    ) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(db, session_settings(emu))
        assert summary.exit_code == EXIT_OK, summary.errors
    assert seen and all("Authorization" not in h for h in seen)
    assert all("Oai-Device-Id" not in h and "Chatgpt-Account-Id" not in h for h in seen)


@pytest.mark.skipif(not curl_cffi_available(), reason="curl_cffi is not installed")
def test_curl_cffi_transport_against_the_emulator(tmp_path):
    with running_emulator(fake_config(**WORLD, chatgpt_challenge_script_agents=True)) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(db, session_settings(emu, transport="curl_cffi"))
        assert summary.exit_code == EXIT_OK, summary.errors
        assert db.execute("SELECT count(*) FROM conversations").fetchone()[0] == 33
        assert summary.extra["files_stored"] > 0
        second = run(db, session_settings(emu, transport="curl_cffi"))
        assert second.fetched == 0


# -- files: faults ------------------------------------------------------------------------------


def test_file_stream_access_denied_is_recorded_and_retried_later(tmp_path):
    with running_emulator(fake_config(**WORLD, chatgpt_file_stream_denied=True)) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(db, session_settings(emu))
        assert summary.exit_code == EXIT_PARTIAL
        assert any("file stream access denied" in e for e in summary.errors)
        assert db.execute("SELECT count(*) FROM conversations").fetchone()[0] == 33
        failed = db.execute(
            "SELECT count(*) FROM attachments WHERE download_status = 'failed'"
        ).fetchone()[0]
        assert failed > 0
        chatgpt_world(emu.state).config.file_stream_denied = False
        again = run(db, session_settings(emu))
        assert again.exit_code == EXIT_OK and again.extra["files_stored"] > 0


def test_disk_full_while_writing_leaves_no_partial_file(tmp_path, monkeypatch):
    real_write = filestore._TempWriter.write
    calls = {"n": 0}

    def full_disk(self, chunk):
        calls["n"] += 1
        if calls["n"] >= 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, chunk)

    with running_emulator(fake_config(**WORLD)) as emu:
        db = open_db(tmp_path / "a.db")
        monkeypatch.setattr(filestore._TempWriter, "write", full_disk)
        summary = run(db, session_settings(emu), concurrency=1)
        assert summary.exit_code == EXIT_FAILED
        assert any("disk is full" in e for e in summary.errors)
        assert db.execute("SELECT count(*) FROM conversations").fetchone()[0] == 33
        store = FileStore.for_database(tmp_path / "a.db")
        for path in store.root.rglob("*"):
            if path.is_file():  # only whole files, under their own hash
                assert path.parent.name != "tmp"
                assert store.has(path.name)
        monkeypatch.setattr(filestore._TempWriter, "write", real_write)
        again = run(db, session_settings(emu))
        assert again.exit_code == EXIT_OK and again.extra["files_stored"] > 0


# -- projects: faults -----------------------------------------------------------------------------


def test_project_disappearing_between_list_and_fetch(tmp_path):
    with running_emulator(fake_config(**WORLD, chatgpt_vanishing_projects=1)) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(db, session_settings(emu))
        assert summary.exit_code == EXIT_OK
        assert any("disappeared" in e for e in summary.errors)
        gone = db.execute(
            "SELECT count(*) FROM projects WHERE deleted_upstream_at IS NOT NULL"
        ).fetchone()[0]
        assert gone == 1
        assert db.execute("SELECT count(*) FROM conversations").fetchone()[0] == 24 + 6


def test_repeating_cursor_stops_instead_of_looping(tmp_path):
    with running_emulator(fake_config(**WORLD, chatgpt_repeat_cursor=True)) as emu:
        db = open_db(tmp_path / "a.db")
        summary = run(db, session_settings(emu))
        assert any("repeated a cursor" in e for e in summary.errors)
        pages = routes(emu, "/conversations")
        project_pages = [e for e in pages if "/gizmos/" in e["path"]]
        assert len(project_pages) == 3 * 2  # each project: the first page, then the repeat


def test_full_marks_projects_and_their_conversations_gone(tmp_path):
    with running_emulator(fake_config(**WORLD)) as emu:
        db = open_db(tmp_path / "a.db")
        run(db, session_settings(emu))
        project = db.execute("SELECT id FROM projects ORDER BY id LIMIT 1").fetchone()[0]
        control(emu, f"delete/{project}")
        summary = run(db, session_settings(emu), full=True)
        assert summary.exit_code == EXIT_OK, summary.errors
        assert summary.extra["projects_marked_deleted"] == 1
        marked = db.execute(
            "SELECT count(*) FROM conversations WHERE gizmo_id = ? "
            "AND deleted_upstream_at IS NOT NULL",
            [project],
        ).fetchone()[0]
        assert marked == 3
        assert db.execute("SELECT count(*) FROM conversations").fetchone()[0] == 33  # kept


def test_export_and_html_link_to_stored_files(tmp_path):
    from archiver.providers.registry import block_reader
    from archiver.query.export import export_conversations

    with running_emulator(fake_config(**WORLD)) as emu:
        db = open_db(tmp_path / "a.db")
        run(db, session_settings(emu))
    cid, sha256 = db.execute(
        "SELECT conversation_id, sha256 FROM attachments WHERE download_status = 'stored' "
        "AND asset_pointer LIKE 'file-service://%' LIMIT 1"
    ).fetchone()
    stored = str(FileStore.for_database(tmp_path / "a.db").path_for(sha256))
    for fmt in ("html", "markdown"):
        result = export_conversations(
            db, tmp_path / fmt, conversation_ids=[cid], fmt=fmt, readers=block_reader
        )
        assert stored in result.written[0].read_text()


def test_every_chatgpt_command_signs_in_with_a_session_file(tmp_path):
    session_file = tmp_path / "session"
    session_file.write_text(f"__Secure-next-auth.session-token={COOKIE}")
    session_file.chmod(0o600)
    db = str(tmp_path / "a.db")
    with running_emulator(fake_config(**WORLD)) as emu:
        env = env_for(emu)  # no access token anywhere: only the session file signs in
        for args in (
            ["doctor"],
            ["request-export", db],
            ["titles", db],
            ["shared", db, "--refresh"],
        ):
            result = CliRunner().invoke(cli, [*args, "--session-file", str(session_file)], env=env)
            assert result.exit_code == EXIT_OK, (args, result.output)
            assert COOKIE not in result.output
        job = tmp_path / "export.toml"
        job.write_text(
            f'kind = "request-export"\ndb = "a.db"\nbase_url = "{emu.chatgpt_base_url}"\n'
            f'session_file = "{session_file}"\n',
            encoding="utf-8",
        )
        result = CliRunner().invoke(cli, ["run", str(job)], env=env)
        assert result.exit_code == EXIT_OK, result.output
    sessions = [e for e in emu.request_log if e["path"] == "/api/auth/session"]
    # Each command that called the account exchanged the cookie for its access token (titles
    # had nothing to title in an empty archive, so it called nothing).
    assert len(sessions) == 4
