from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from archiver.cli import cli
from archiver.config import Secret
from archiver.doctor import FAIL, OK, SKIP, WARN, DoctorRun, run_doctor
from archiver.providers import registry
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.providers.chatgpt.doctor import check_chatgpt
from tests.support.account_helpers import NO_RETRY, TOKEN, assert_no_secret
from tests.support.helpers import FIXTURES, load_fixture
from tests.support.transport import free_port


def serve_account(server: HTTPServer, check: str = "accounts_check_2023.json") -> None:
    server.expect_request("/backend-api/accounts/check").respond_with_json(
        load_fixture(f"account/{check}")
    )
    server.expect_request(
        "/backend-api/models", query_string="history_and_training_disabled=false"
    ).respond_with_json(load_fixture("account/models.json"))
    server.expect_request("/backend-api/settings/beta_features").respond_with_json(
        load_fixture("account/beta_features.json")
    )
    server.expect_request("/public-api/conversation_limit").respond_with_json(
        load_fixture("account/conversation_limit.json")
    )


def doctor(settings: ChatGPTSettings, now: datetime | None = None):
    return asyncio.run(
        check_chatgpt(settings, DoctorRun("CHATGPT_ACCESS_TOKEN", NO_RETRY, 30.0, now))
    )


def statuses(report) -> dict[str, str]:
    return {check.name: check.status for check in report.checks}


def test_all_ok(httpserver, settings):
    serve_account(httpserver, "accounts_check_v4.json")
    report = doctor(settings)
    assert statuses(report) == {
        "token": OK,
        "account": OK,
        "clock": OK,
        "models": OK,
        "beta features": OK,
        "limits": OK,
    }
    assert report.exit_code == 0
    text = "\n".join(report.lines())
    assert "chatgptplusplan, paid" in text
    assert "text-davinci-002-render-sha, gpt-4" in text
    assert "40 messages every 180 minutes" in text
    assert "on: browsing" in text
    # Every request carried the token; the limit came off the host root.
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r, _ in httpserver.log)
    assert_no_secret(text)


def test_expired_token_401(httpserver, settings):
    httpserver.expect_request("/backend-api/accounts/check").respond_with_json(
        {"detail": "Your authentication token has expired."}, status=401
    )
    report = doctor(settings)
    assert statuses(report)["account"] == FAIL
    assert "expired or is wrong" in report.checks[1].detail
    assert statuses(report)["models"] == SKIP
    assert report.exit_code == 2
    assert len(httpserver.log) == 1  # the others are skipped, not asked


def test_challenge_page_403(httpserver, settings):
    html = (FIXTURES / "account/challenge.html").read_text()
    httpserver.expect_request("/backend-api/accounts/check").respond_with_data(
        html, status=403, content_type="text/html"
    )
    report = doctor(settings)
    assert statuses(report)["account"] == FAIL
    assert "challenge page (403 HTML)" in report.checks[1].detail
    assert report.exit_code == 1


def test_wrong_base_url_404(httpserver):
    settings = ChatGPTSettings(base_url=httpserver.url_for("/api"), token=Secret(TOKEN))
    httpserver.expect_request("/api/accounts/check").respond_with_data("Not Found", status=404)
    report = doctor(settings)
    assert statuses(report)["account"] == FAIL
    assert "wrong base URL" in report.checks[1].detail
    assert report.exit_code == 2


def test_wrong_base_url_non_json_200(httpserver, settings):
    httpserver.expect_request("/backend-api/accounts/check").respond_with_data(
        "hello", content_type="text/plain"
    )
    report = doctor(settings)
    assert "not JSON: wrong base URL" in report.checks[1].detail
    assert report.exit_code == 2


def test_wrong_base_url_json_that_is_no_account(httpserver, settings):
    httpserver.expect_request("/backend-api/accounts/check").respond_with_json({"ok": 1})
    report = doctor(settings)
    assert statuses(report)["account"] == FAIL
    assert report.exit_code == 2


def test_connection_refused():
    port = free_port()
    settings = ChatGPTSettings(
        base_url=f"http://127.0.0.1:{port}/backend-api?key=hidden", token=Secret(TOKEN)
    )
    report = doctor(settings)
    assert statuses(report)["account"] == FAIL
    assert f"cannot connect to 127.0.0.1:{port}" in report.checks[1].detail
    assert report.exit_code == 2
    assert "hidden" not in "\n".join(report.lines())


def test_clock_skew_warns_but_does_not_fail(httpserver, settings):
    serve_account(httpserver)
    local_clock = datetime.now(tz=UTC) + timedelta(minutes=42)  # the server looks 42 min behind
    report = doctor(settings, now=local_clock)
    assert statuses(report)["clock"] == WARN
    clock = next(c for c in report.checks if c.name == "clock")
    assert "42 minutes ahead of the server's" in clock.detail
    assert report.exit_code == 0


def test_secondary_endpoint_failures(httpserver, settings):
    httpserver.expect_request("/backend-api/accounts/check").respond_with_json(
        load_fixture("account/accounts_check_2023.json")
    )
    httpserver.expect_request("/backend-api/models").respond_with_data("boom", status=502)
    httpserver.expect_request("/backend-api/settings/beta_features").respond_with_json({})
    # conversation_limit: 404 → a warning (retired on many servers), not a failure
    httpserver.expect_request("/public-api/conversation_limit").respond_with_data("", status=404)
    report = doctor(settings)
    assert statuses(report)["models"] == FAIL
    assert statuses(report)["limits"] == WARN
    assert report.exit_code == 1


def test_token_about_to_expire_warns():
    from archiver.doctor import token_check
    from tests.support.account_helpers import fake_jwt

    now = datetime(2024, 1, 1, tzinfo=UTC)
    soon = token_check(fake_jwt(now.timestamp() + 3600), "env", now)
    gone = token_check(fake_jwt(now.timestamp() - 3600), "env", now)
    assert soon.status == WARN and gone.status == WARN and "expired" in gone.detail


@pytest.fixture
def env(monkeypatch, httpserver):
    monkeypatch.setenv("CHATGPT_BASE_URL", httpserver.url_for("/backend-api"))
    monkeypatch.setenv("CHATGPT_ACCESS_TOKEN", TOKEN)
    monkeypatch.delenv("CHATGPT_ACCOUNT_ID", raising=False)


def test_cli_ok_and_exit_codes(httpserver, env):
    serve_account(httpserver)
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "ok    account" in result.output
    assert "all checks passed" in result.output
    assert_no_secret(result.output)


def test_cli_401_exit_2(httpserver, env):
    httpserver.expect_request("/backend-api/accounts/check").respond_with_json({}, status=401)
    result = CliRunner().invoke(cli, ["doctor", "--provider", "chatgpt"])
    assert result.exit_code == 2
    assert "FAIL  account" in result.output
    assert_no_secret(result.output)


def test_cli_missing_token_exit_2(monkeypatch):
    monkeypatch.delenv("CHATGPT_ACCESS_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 2
    assert "CHATGPT_ACCESS_TOKEN" in result.output


def test_bing_cookie_refused_and_ok(httpserver, monkeypatch):
    monkeypatch.setenv("BING_BASE_URL", httpserver.url_for(""))
    monkeypatch.setenv("BING_COOKIE", "cookie-sEcReT")
    httpserver.expect_oneshot_request("/turing/conversation/chats").respond_with_json(
        {"result": {"value": "UnauthorizedRequest", "message": "no"}}
    )
    httpserver.expect_oneshot_request("/turing/conversation/chats").respond_with_json(
        {"chats": [], "result": {"value": "Success", "message": "0 chats found."}}
    )
    refused = asyncio.run(run_doctor(registry.get("bing"), {}, policy=NO_RETRY))
    assert refused.exit_code == 2
    assert "cookie was refused" in refused.checks[1].detail
    ok = asyncio.run(run_doctor(registry.get("bing"), {}, policy=NO_RETRY))
    assert ok.exit_code == 0, ok.lines()
    assert httpserver.log[0][0].headers["Cookie"] == "_U=cookie-sEcReT"
    assert_no_secret("\n".join(refused.lines() + ok.lines()))
    assert ok.checks[0].detail == "set (BING_COOKIE)"


def test_bing_cookie_from_a_file_is_named_as_such(httpserver, monkeypatch, tmp_path):
    monkeypatch.setenv("BING_BASE_URL", httpserver.url_for(""))
    monkeypatch.delenv("BING_COOKIE", raising=False)
    cookie_file = tmp_path / "cookie"
    cookie_file.write_text("cookie-sEcReT")
    cookie_file.chmod(0o600)
    httpserver.expect_oneshot_request("/turing/conversation/chats").respond_with_json(
        {"chats": [], "result": {"value": "Success", "message": "0 chats found."}}
    )
    ok = asyncio.run(
        run_doctor(registry.get("bing"), {"cookie_file": str(cookie_file)}, policy=NO_RETRY)
    )
    assert ok.exit_code == 0, ok.lines()
    assert ok.checks[0].detail == "set (the file given)"


def test_a_session_file_for_a_provider_without_one_is_a_clear_failure(monkeypatch, tmp_path):
    monkeypatch.setenv("BING_COOKIE", "cookie-sEcReT")
    session_file = tmp_path / "session"
    session_file.write_text("x")
    session_file.chmod(0o600)
    report = asyncio.run(
        run_doctor(registry.get("bing"), {"session_file": str(session_file)}, policy=NO_RETRY)
    )
    assert report.exit_code == 2
    assert "--session-file is not a credential of Bing chat" in report.checks[0].detail
