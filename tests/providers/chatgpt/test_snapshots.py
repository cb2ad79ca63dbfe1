from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from archiver.cli import cli
from archiver.providers.chatgpt.backup import backup_chatgpt
from archiver.transport.http import RetryPolicy
from archiver.transport.pace import ClientPace
from tests.support.account_helpers import NO_RETRY, TOKEN, assert_no_secret, dump
from tests.support.helpers import load_fixture

CONVERSATION_ID = "c0ffee00-0000-4000-8000-000000000001"
ACCOUNT_PATHS = (
    "/backend-api/accounts/check",
    "/backend-api/models",
    "/backend-api/settings/beta_features",
    "/public-api/conversation_limit",
)


def serve_conversations(server: HTTPServer) -> None:
    item = {
        "id": CONVERSATION_ID,
        "title": "Edits and regenerations",
        "create_time": "2023-12-06T02:40:00.500000+00:00",
        "update_time": "2023-12-06T02:41:14.616844+00:00",
        "mapping": None,
        "current_node": None,
    }
    server.expect_request(
        "/backend-api/conversations",
        query_string={"offset": "0", "limit": "100", "order": "updated"},
    ).respond_with_json({"items": [item], "total": 1, "limit": 100, "offset": 0})
    server.expect_request("/backend-api/conversations").respond_with_json(
        {"items": [], "total": 0, "limit": 100, "offset": 0}
    )
    server.expect_request(f"/backend-api/conversation/{CONVERSATION_ID}").respond_with_json(
        load_fixture("chatgpt/branches.json")
    )


def serve_account(server: HTTPServer, *, models_status: int = 200) -> None:
    server.expect_request(ACCOUNT_PATHS[0]).respond_with_json(
        load_fixture("account/accounts_check_2023.json")
    )
    if models_status == 200:
        server.expect_request(ACCOUNT_PATHS[1]).respond_with_json(
            load_fixture("account/models.json")
        )
    else:
        server.expect_request(ACCOUNT_PATHS[1]).respond_with_json(
            {"detail": "Internal error"}, status=models_status
        )
    server.expect_request(ACCOUNT_PATHS[2]).respond_with_json(
        load_fixture("account/beta_features.json")
    )
    server.expect_request(ACCOUNT_PATHS[3]).respond_with_json(
        load_fixture("account/conversation_limit.json")
    )


def backup(db, settings, policy=NO_RETRY, **kwargs):
    return asyncio.run(backup_chatgpt(db, settings, pace=ClientPace(None, policy=policy), **kwargs))


def snapshots(db) -> list[dict]:
    return list(db.query("SELECT * FROM account_snapshots ORDER BY id"))


def test_backup_records_snapshots(httpserver, settings, db):
    serve_account(httpserver)
    serve_conversations(httpserver)
    summary = backup(db, settings)
    assert summary.exit_code == 0, summary.errors
    assert summary.new == 1
    rows = snapshots(db)
    assert [r["endpoint"] for r in rows] == [
        "accounts/check",
        "models",
        "settings/beta_features",
        "public-api/conversation_limit",
    ]
    assert all(r["status"] == 200 and r["error"] is None for r in rows)
    assert json.loads(rows[0]["raw_json"])["account_plan"]["subscription_plan"] == "chatgptfreeplan"
    assert json.loads(rows[3]["raw_json"])["message_cap"] == 40.0
    assert all(r["taken_at"].endswith("Z") and r["provider"] == "chatgpt" for r in rows)
    # The snapshot comes first, then the list.
    paths = [request.path for request, _ in httpserver.log]
    assert paths[:4] == list(ACCOUNT_PATHS)
    assert summary.requests == len(httpserver.log)
    # A second run adds another set: the history of plan, models and limits.
    backup(db, settings)
    assert len(snapshots(db)) == 8
    assert_no_secret(dump(db))


def test_failing_snapshot_endpoint_does_not_fail_the_backup(httpserver, settings, db):
    serve_account(httpserver, models_status=500)
    serve_conversations(httpserver)
    retrying = RetryPolicy(max_attempts=5, backoff_base=0, jitter=0)
    summary = backup(db, settings, policy=retrying)
    assert summary.exit_code == 0
    # Snapshots are a side record: asked once, not retried like the conversations are.
    assert [r.path for r, _ in httpserver.log].count("/backend-api/models") == 1
    assert summary.requests == len(httpserver.log)
    assert summary.new == 1
    models = snapshots(db)[1]
    assert models["status"] == 500
    assert models["raw_json"] is None
    assert "GET /backend-api/models failed with 500" in models["error"]


def test_refused_token_at_snapshot_stops_the_run(httpserver, settings, db):
    httpserver.expect_request(ACCOUNT_PATHS[0]).respond_with_json(
        {"detail": "token expired"}, status=401
    )
    summary = backup(db, settings)
    assert summary.exit_code == 2
    assert len(httpserver.log) == 1  # nothing after accounts/check: no list, no conversation
    rows = snapshots(db)
    assert len(rows) == 1 and rows[0]["status"] == 401
    assert_no_secret(dump(db))
    assert_no_secret("\n".join(summary.errors))


def test_no_snapshot_makes_no_account_requests(httpserver, settings, db):
    serve_conversations(httpserver)
    summary = backup(db, settings, snapshot=False)
    assert summary.exit_code == 0
    assert not snapshots(db)
    assert all(request.path not in ACCOUNT_PATHS for request, _ in httpserver.log)


def test_cli_no_snapshot_flag(httpserver, monkeypatch, tmp_path):
    monkeypatch.setenv("CHATGPT_BASE_URL", httpserver.url_for("/backend-api"))
    monkeypatch.setenv("CHATGPT_ACCESS_TOKEN", TOKEN)
    serve_conversations(httpserver)
    result = CliRunner().invoke(
        cli,
        [
            "backup",
            "chatgpt",
            str(tmp_path / "a.db"),
            "--no-snapshot",
            "--no-archived",
            "--max-rpm",
            "6000",
        ],
    )
    assert result.exit_code == 0, result.output
    assert all(request.path not in ACCOUNT_PATHS for request, _ in httpserver.log)
