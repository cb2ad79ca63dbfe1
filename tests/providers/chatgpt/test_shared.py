from __future__ import annotations

import asyncio
import copy
import json

from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from archiver.cli import cli
from archiver.providers.chatgpt.account import AccountClient
from archiver.providers.chatgpt.client import DEFAULT_MAX_RPM, ChatGPTClient
from archiver.providers.chatgpt.shared import shared_links_report, sync_shared_links
from archiver.transport.http import HttpClient, new_session
from archiver.transport.pace import ClientPace
from archiver.transport.ratelimit import RateLimiter
from tests.support.account_helpers import (
    NO_RETRY,
    TOKEN,
    archive_conversation,
    assert_no_secret,
    dump,
)
from tests.support.helpers import load_fixture

ARCHIVED_ID = "c0ffee00-0000-4000-8000-000000000001"


def make_links(count: int) -> list[dict]:
    template = load_fixture("account/shared_conversations.json")["items"][0]
    links = []
    for n in range(count):
        item = copy.deepcopy(template)
        item["id"] = f"share-{n:03d}"
        item["conversation_id"] = ARCHIVED_ID if n == 0 else f"conv-{n:03d}"
        item["title"] = f"Shared {n}"
        item["create_time"] = f"2023-12-{1 + n % 28:02d}T10:00:00+00:00"
        links.append(item)
    return links


def serve_links(server: HTTPServer, links: list[dict]) -> None:
    """A paged list honouring offset and limit, as the conversation list does."""

    def handler(request: Request) -> Response:
        assert request.args["order"] == "created"
        offset, limit = int(request.args["offset"]), int(request.args["limit"])
        page = links[offset : offset + limit]
        body = {"items": page, "total": len(links), "limit": limit, "offset": offset}
        return Response(json.dumps(body), content_type="application/json")

    server.clear()
    server.expect_request("/backend-api/shared_conversations").respond_with_handler(handler)


def refresh(db, settings):
    async def go():
        async with new_session() as session:
            http = HttpClient(session, RateLimiter(None), NO_RETRY)
            return await sync_shared_links(db, AccountClient(ChatGPTClient(http, settings)))

    return asyncio.run(go())


def test_paged_then_marked_deleted_not_removed(httpserver, settings, db):
    archive_conversation(db, ARCHIVED_ID, "Edits and regenerations")
    links = make_links(53)
    serve_links(httpserver, links)
    first = refresh(db, settings)
    assert first.exit_code == 0, first.errors
    assert (first.listed, first.new, first.marked_deleted) == (53, 53, 0)
    offsets = [request.args["offset"] for request, _ in httpserver.log]
    assert offsets == ["0", "50"]  # a short second page ends the walk

    # Two links are unshared upstream: marked, kept.
    serve_links(httpserver, links[:10] + links[12:])
    second = refresh(db, settings)
    assert (second.listed, second.new, second.marked_deleted) == (51, 0, 2)
    assert db["shared_links"].count == 53
    gone = [
        r["id"]
        for r in db.query("SELECT id FROM shared_links WHERE deleted_upstream_at IS NOT NULL")
    ]
    assert gone == ["share-010", "share-011"]

    # One comes back: unmarked.
    serve_links(httpserver, links[:11] + links[12:])
    third = refresh(db, settings)
    assert (third.relisted, third.marked_deleted) == (1, 0)
    assert_no_secret(dump(db))


def test_failure_part_way_stores_nothing(httpserver, settings, db):
    links = make_links(60)
    httpserver.expect_request(
        "/backend-api/shared_conversations",
        query_string={"order": "created", "offset": "0", "limit": "50"},
    ).respond_with_json({"items": links[:50], "total": 60})
    httpserver.expect_request("/backend-api/shared_conversations").respond_with_json(
        {"detail": "oops"}, status=500
    )
    summary = refresh(db, settings)
    assert summary.exit_code == 1
    assert db["shared_links"].count == 0


def test_report_joins_archive(httpserver, settings, db):
    archive_conversation(db, ARCHIVED_ID, "Edits and regenerations")
    serve_links(httpserver, load_fixture("account/shared_conversations.json")["items"])
    report = asyncio.run(
        shared_links_report(
            db, settings=settings, pace=ClientPace(DEFAULT_MAX_RPM, policy=NO_RETRY)
        )
    )
    assert report.exit_code == 0
    by_id = {link.id: link for link in report.links}
    archived = by_id["9942703e-0b2b-42b3-aee5-ed0de8335e2d"]
    assert archived.archived and archived.conversation_id == ARCHIVED_ID
    assert archived.url == httpserver.url_for("/share/9942703e-0b2b-42b3-aee5-ed0de8335e2d")
    assert not by_id["1b2c3d4e-0000-4000-8000-0000000000s2"].archived
    text = "\n".join(report.lines())
    assert "2023-12-13 17:16:53" in text and "物流优化问题解决方案" in text
    assert "[conversation not archived]" in text


def test_cli_reads_archive_without_token_and_refreshes_with_it(httpserver, monkeypatch, tmp_path):
    monkeypatch.delenv("CHATGPT_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("CHATGPT_BASE_URL", httpserver.url_for("/backend-api"))
    path = str(tmp_path / "a.db")
    empty = CliRunner().invoke(cli, ["shared", path])
    assert empty.exit_code == 0 and "0 shared link(s)" in empty.output
    assert not httpserver.log
    no_token = CliRunner().invoke(cli, ["shared", path, "--refresh"])
    assert no_token.exit_code == 2

    monkeypatch.setenv("CHATGPT_ACCESS_TOKEN", TOKEN)
    serve_links(httpserver, load_fixture("account/shared_conversations.json")["items"])
    result = CliRunner().invoke(cli, ["shared", path, "--refresh"])
    assert result.exit_code == 0, result.output
    assert "2 shared link(s)" in result.output
    assert "/share/9942703e-0b2b-42b3-aee5-ed0de8335e2d" in result.output
    assert_no_secret(result.output)

    httpserver.clear()
    httpserver.expect_request("/backend-api/shared_conversations").respond_with_json({}, status=401)
    refused = CliRunner().invoke(cli, ["shared", path, "--refresh"])
    assert refused.exit_code == 2
    assert "2 shared link(s)" in refused.output  # the archive is still listed
