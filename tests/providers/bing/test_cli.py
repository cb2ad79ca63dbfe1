"""``archiver backup bing DB``: exit codes and what the user sees (never the cookie)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from archiver.cli import cli
from archiver.store import open_db
from tests.support.helpers import load_fixture

COOKIE = "cookie-value-that-must-stay-secret"
CHAT1, CHAT2 = "51D|BingProd|CHAT0001", "51D|BingProd|CHAT0002"


def env(server: HTTPServer) -> dict[str, str]:
    base = server.url_for("").rstrip("/")
    return {"BING_COOKIE": COOKIE, "BING_BASE_URL": base, "SYDNEY_BASE_URL": base}


def invoke(server: HTTPServer, db: Path, *args: str):
    return CliRunner().invoke(
        cli,
        ["backup", "bing", str(db), "--max-rpm", "100000", "--concurrency", "1", *args],
        env=env(server),
    )


def test_backup_bing_ok_prints_the_summary(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/turing/conversation/chats").respond_with_json(
        {"chats": [load_fixture("bing/chats.json")["chats"][0]], "clientId": "cl"}
    )
    httpserver.expect_request("/sydney/GetConversation").respond_with_json(
        load_fixture("bing/conversation_chat1.json")
    )
    result = invoke(httpserver, tmp_path / "a.db")
    assert result.exit_code == 0, result.output
    assert "bing: listed 1, fetched 1, new 1" in result.output
    assert COOKIE not in result.output


def test_unauthorized_request_exits_2_with_a_plain_message(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request("/turing/conversation/chats").respond_with_json(
        {"result": {"value": "UnauthorizedRequest", "message": "User is not authorized."}}
    )
    result = invoke(httpserver, tmp_path / "a.db")
    assert result.exit_code == 2
    assert "the Bing cookie was refused (expired?)" in result.output
    assert "Traceback" not in result.output
    assert COOKIE not in result.output


def test_throttled_exits_3_and_keeps_what_was_archived(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    answers = {
        CHAT1: load_fixture("bing/conversation_chat1.json"),
        CHAT2: {"result": {"value": "Throttled", "message": "Request is throttled."}},
    }

    def handler(request: Request) -> Response:
        return Response(json.dumps(answers[request.args["conversationId"]]))

    httpserver.expect_request("/turing/conversation/chats").respond_with_json(
        load_fixture("bing/chats.json")
    )
    httpserver.expect_request("/sydney/GetConversation").respond_with_handler(handler)
    db_path = tmp_path / "a.db"
    result = invoke(httpserver, db_path)
    assert result.exit_code == 3, result.output
    assert "throttled" in result.output.lower()
    assert COOKIE not in result.output and "sig-chat" not in result.output
    ids = [row[0] for row in open_db(db_path).execute("SELECT id FROM conversations")]
    assert ids == [CHAT1]


def test_missing_cookie_is_a_config_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["backup", "bing", str(tmp_path / "a.db")], env={"BING_COOKIE": None}
    )
    assert result.exit_code == 2
    assert "BING_COOKIE" in result.output and "--cookie-file" in result.output


def test_cookie_file_must_be_0600(tmp_path: Path) -> None:
    cookie = tmp_path / "cookie"
    cookie.write_text(COOKIE)
    cookie.chmod(0o644)
    result = CliRunner().invoke(
        cli,
        ["backup", "bing", str(tmp_path / "a.db"), "--cookie-file", str(cookie)],
        env={"BING_COOKIE": None},
    )
    assert result.exit_code == 2
    assert "chmod 600" in result.output and COOKIE not in result.output
