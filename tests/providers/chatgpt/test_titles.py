from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner

from archiver.cli import cli
from archiver.providers.chatgpt.titles import generate_titles, title_candidates
from archiver.transport.pace import ClientPace
from tests.support.account_helpers import (
    NO_RETRY,
    TOKEN,
    archive_conversation,
    assert_no_secret,
    dump,
)
from tests.support.helpers import load_fixture

UNTITLED = "c0ffee00-0000-4000-8000-000000000001"
NEW_CHAT = "c0ffee00-0000-4000-8000-000000000002"  # as batch runs leave them
TITLED = "c0ffee00-0000-4000-8000-000000000003"
CURRENT_MESSAGE = "m-a2-differs"  # the current node n-a2's message id (not the node id)


def seed(db) -> None:
    archive_conversation(db, UNTITLED, None)
    archive_conversation(db, NEW_CHAT, "New chat", source="batch")
    archive_conversation(db, TITLED, "Edits and regenerations")


def run(db, settings, **kwargs):
    return asyncio.run(
        generate_titles(db, settings, pace=ClientPace(None, policy=NO_RETRY), **kwargs)
    )


def title_of(db, conversation_id: str) -> tuple[str | None, str | None]:
    row = db.execute(
        "SELECT title, json_extract(raw_json, '$.title') FROM conversations WHERE id = ?",
        [conversation_id],
    ).fetchone()
    return row[0], row[1]


def test_candidates_are_the_untitled_ones(db):
    seed(db)
    candidates = title_candidates(db)
    assert [c.conversation_id for c in candidates] == [UNTITLED, NEW_CHAT]
    assert {c.message_id for c in candidates} == {CURRENT_MESSAGE}
    assert len(title_candidates(db, missing_only=False)) == 3


def test_generates_upstream_and_archives(httpserver, settings, db):
    seed(db)
    for conversation_id in (UNTITLED, NEW_CHAT):
        httpserver.expect_oneshot_request(
            f"/backend-api/conversation/gen_title/{conversation_id}",
            method="POST",
            json={"message_id": CURRENT_MESSAGE},
        ).respond_with_json(load_fixture("account/gen_title.json"))
    summary = run(db, settings)
    httpserver.check_assertions()  # both POSTs were made, with the current message id
    assert summary.exit_code == 0, summary.errors
    assert (summary.candidates, summary.generated) == (2, 2)
    for conversation_id in (UNTITLED, NEW_CHAT):
        assert title_of(db, conversation_id) == ("Editing prompts and branches",) * 2
    assert title_of(db, TITLED)[0] == "Edits and regenerations"
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r, _ in httpserver.log)
    assert_no_secret(dump(db))
    # Nothing is left to title.
    assert not title_candidates(db)


def test_placeholder_upstream_is_patched_with_first_prompt(httpserver, settings, db):
    archive_conversation(db, NEW_CHAT, "New chat", source="batch")
    httpserver.expect_oneshot_request(
        f"/backend-api/conversation/gen_title/{NEW_CHAT}", method="POST"
    ).respond_with_json(load_fixture("account/gen_title_already_placeholder.json"))
    httpserver.expect_oneshot_request(
        f"/backend-api/conversation/{NEW_CHAT}", method="PATCH"
    ).respond_with_json(load_fixture("account/patch_success.json"))
    summary = run(db, settings)
    httpserver.check_assertions()
    assert summary.patched == 1 and summary.exit_code == 0
    sent = json.loads(httpserver.log[1][0].data)
    first_prompt = db.execute(
        "SELECT text FROM messages WHERE conversation_id = ? AND id = 'n-u2'", [NEW_CHAT]
    ).fetchone()[0]
    assert sent == {"title": first_prompt.splitlines()[0][:60]}
    assert title_of(db, NEW_CHAT)[0] == sent["title"]


def test_already_titled_upstream_syncs_the_archive(httpserver, settings, db):
    archive_conversation(db, UNTITLED, None)
    httpserver.expect_request(f"/backend-api/conversation/gen_title/{UNTITLED}").respond_with_json(
        load_fixture("account/gen_title_already.json")
    )
    summary = run(db, settings)
    assert summary.synced == 1
    assert title_of(db, UNTITLED) == ("Branches explained", "Branches explained")
    assert len(httpserver.log) == 1  # no PATCH: upstream had a real title


def test_dry_run_sends_nothing(httpserver, db):
    seed(db)
    summary = run(db, None, dry_run=True)
    assert not httpserver.log
    assert [c.how for c in summary.changes] == ["would-ask", "would-ask"]
    assert title_of(db, UNTITLED)[0] is None


def test_refused_token_stops_and_404_is_counted(httpserver, settings, db):
    seed(db)
    httpserver.expect_oneshot_request(
        f"/backend-api/conversation/gen_title/{UNTITLED}"
    ).respond_with_json({"detail": "Conversation not found"}, status=404)
    httpserver.expect_oneshot_request(
        f"/backend-api/conversation/gen_title/{NEW_CHAT}"
    ).respond_with_json({"detail": "expired"}, status=401)
    summary = run(db, settings, missing_only=False)
    assert summary.missing == 1
    assert summary.exit_code == 2
    assert len(httpserver.log) == 2  # TITLED was never asked
    assert_no_secret("\n".join(summary.errors))


def test_server_error_is_partial(httpserver, settings, db):
    archive_conversation(db, UNTITLED, None)
    httpserver.expect_request(f"/backend-api/conversation/gen_title/{UNTITLED}").respond_with_json(
        {}, status=500
    )
    summary = run(db, settings)
    assert summary.failed == 1 and summary.exit_code == 3


def test_cli_dry_run_and_real(httpserver, monkeypatch, tmp_path):
    from archiver.store import open_db

    path = tmp_path / "a.db"
    database = open_db(path)
    archive_conversation(database, UNTITLED, None)
    database.conn.close()
    monkeypatch.delenv("CHATGPT_ACCESS_TOKEN", raising=False)
    dry = CliRunner().invoke(cli, ["titles", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"would ask  {UNTITLED}  (none)" in dry.output
    assert not httpserver.log

    monkeypatch.setenv("CHATGPT_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("CHATGPT_BASE_URL", httpserver.url_for("/backend-api"))
    httpserver.expect_request(f"/backend-api/conversation/gen_title/{UNTITLED}").respond_with_json(
        load_fixture("account/gen_title.json")
    )
    real = CliRunner().invoke(cli, ["titles", str(path)])
    assert real.exit_code == 0, real.output
    assert "generated" in real.output and "Editing prompts and branches" in real.output
    assert_no_secret(real.output)
