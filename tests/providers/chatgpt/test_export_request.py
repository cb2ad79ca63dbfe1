from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner

from archiver.cli import cli
from archiver.providers.chatgpt.export_request import request_export
from archiver.transport.pace import ClientPace
from tests.support.account_helpers import NO_RETRY, TOKEN, assert_no_secret, dump
from tests.support.helpers import load_fixture


def run(db, settings):
    return asyncio.run(request_export(db, settings, pace=ClientPace(None, policy=NO_RETRY)))


def test_export_request_recorded(httpserver, settings, db):
    httpserver.expect_oneshot_request(
        "/backend-api/accounts/data_export", method="POST"
    ).respond_with_json(load_fixture("account/data_export.json"))
    summary = run(db, settings)
    httpserver.check_assertions()
    assert summary.exit_code == 0
    assert summary.counts()["requested"] == 1
    assert "requested 1" in summary.line() and "'queued'" in summary.line()
    (row,) = db.query("SELECT * FROM export_requests")
    assert row["status"] == "queued" and row["provider"] == "chatgpt"
    assert json.loads(row["raw_json"]) == {"status": "queued"}
    assert row["requested_at"].endswith("Z") and row["error"] is None
    assert_no_secret(dump(db))


def test_refused_token_recorded_exit_2(httpserver, settings, db):
    httpserver.expect_request("/backend-api/accounts/data_export").respond_with_json(
        {"detail": "expired"}, status=401
    )
    summary = run(db, settings)
    assert summary.exit_code == 2
    (row,) = db.query("SELECT * FROM export_requests")
    assert row["status"] == "failed" and "401" in row["error"]
    assert_no_secret(dump(db) + summary.line() + "\n".join(summary.errors))


def test_cli(httpserver, monkeypatch, tmp_path):
    monkeypatch.setenv("CHATGPT_BASE_URL", httpserver.url_for("/backend-api"))
    monkeypatch.setenv("CHATGPT_ACCESS_TOKEN", TOKEN)
    httpserver.expect_request("/backend-api/accounts/data_export").respond_with_json(
        {"status": "queued"}
    )
    result = CliRunner().invoke(cli, ["request-export", str(tmp_path / "a.db")])
    assert result.exit_code == 0, result.output
    assert "export request: requested 1" in result.output
    assert_no_secret(result.output)
