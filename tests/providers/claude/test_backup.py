"""``backup_claude`` against the independent fake of claude.ai (``fake_claude.py``) serving
the hand-written account (``account.py``): every conversation, message, branch, current
branch, attachment, file and project lands; a second run makes list requests only; ``--full``
marks what is gone, with the guard against an empty or short list."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from archiver.backup.engine import BackupOptions, BackupSummary
from archiver.backup.options import BackupRun
from archiver.config import Secret
from archiver.errors import EXIT_CONFIG, EXIT_PARTIAL, AuthError, ChallengeError
from archiver.providers.claude.backup import backup_claude
from archiver.providers.claude.client import ClaudeSettings, cookie_header
from archiver.store import open_db
from archiver.store.filestore import FileStore
from archiver.transport.pace import ClientPace
from tests.providers.claude import account as acc
from tests.providers.claude.fake_claude import Fake, FakeOptions, running_fake
from tests.support.transport import FAST

ALL = {acc.LISBON, acc.TILES, acc.OLD, acc.EMPTY, acc.REPL}

# The fakes' failure counts (docs_fail=2, ...) are written for two tries of a request.
TWO_TRIES = replace(FAST, max_attempts=2)


def run(fake: Fake, db: Any, session: str = acc.SESSION_KEY, **options: Any) -> BackupSummary:
    settings = ClaudeSettings(Secret(cookie_header(session)), base_url=fake.base_url)
    return asyncio.run(
        backup_claude(
            db, settings, BackupRun(ClientPace(None, policy=TWO_TRIES), BackupOptions(**options))
        )
    )


def rows(db: Any, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in db.execute(sql, list(args)).fetchall()]


@pytest.fixture
def backed_up(tmp_path: Path) -> Any:
    with running_fake() as fake:
        db = open_db(tmp_path / "a.db")
        summary = run(fake, db)
        yield fake, db, summary


def test_every_conversation_message_and_branch_lands(backed_up: Any) -> None:
    _, db, summary = backed_up
    assert summary.exit_code == 0, summary.errors
    assert (summary.listed, summary.new) == (5, 5)
    stored = rows(
        db,
        "SELECT id, provider, title, default_model_slug, source FROM conversations "
        "WHERE id NOT LIKE 'claude-%'",
    )
    assert {r[0] for r in stored} == ALL
    assert {r[1] for r in stored} == {"claude"} and {r[4] for r in stored} == {"api"}
    titles = {r[0]: (r[2], r[3]) for r in stored}
    assert titles[acc.LISBON] == ("Lisbon weekend", "claude-sonnet-4-5-20250929")
    assert titles[acc.OLD] == ("Hello", "claude-3-opus-20240229")
    assert titles[acc.EMPTY][0] is None  # an untitled new chat
    # Every message of every branch, parent as upstream said (NULL for the root sentinel).
    lisbon = {
        r[0]: r[1:]
        for r in rows(
            db,
            "SELECT id, parent_id, role, text, on_current_branch FROM messages "
            "WHERE conversation_id = ?",
            acc.LISBON,
        )
    }
    assert set(lisbon) == set(acc.LISBON_TEXTS)
    for uuid, (parent, role, text, current) in lisbon.items():
        assert parent == acc.LISBON_PARENTS[uuid]
        assert text == acc.LISBON_TEXTS[uuid]
        assert role == (
            "user" if uuid in (acc.L_H1, acc.L_H2, acc.L_H3, acc.L_H1E) else "assistant"
        )
        assert current == (uuid in acc.LISBON_BRANCH), uuid
    # The current branch is the path to current_leaf_message_uuid, in order: not the newest
    # branch (the edited prompt), not the regenerated answer.
    branch = rows(db, "SELECT node_id FROM current_branch WHERE conversation_id = ?", acc.LISBON)
    assert [r[0] for r in branch] == acc.LISBON_BRANCH
    current = rows(
        db, "SELECT current_node, node_count FROM conversations WHERE id = ?", acc.LISBON
    )
    assert current == [(acc.L_A3, 9)]
    # Siblings: the regenerated answer after the first one, the edited prompt a second root.
    siblings = dict(
        rows(db, "SELECT id, position FROM messages WHERE conversation_id = ?", acc.LISBON)
    )
    assert (siblings[acc.L_A1], siblings[acc.L_A1B]) == (0, 1)
    assert (siblings[acc.L_H1], siblings[acc.L_H1E]) == (0, 1)
    children = rows(
        db,
        "SELECT children FROM messages WHERE conversation_id = ? AND id = ?",
        acc.LISBON,
        acc.L_H1,
    )
    assert json.loads(children[0][0]) == [acc.L_A1, acc.L_A1B]


def test_text_thinking_and_tools(backed_up: Any) -> None:
    _, db, _ = backed_up
    raw, text, kind = rows(
        db, "SELECT raw_json, text, content_type FROM messages WHERE id = ?", acc.L_A1
    )[0]
    message = json.loads(raw)
    kinds = [b["type"] for b in message["content"]]
    assert kinds == ["thinking", "tool_use", "tool_result", "text", "text"]  # kept whole
    assert message["content"][0]["thinking"] == acc.LISBON_THINKING
    assert message["content"][2]["content"][0]["text"] == "Fado night in Alfama on Friday"
    assert acc.LISBON_THINKING not in text and "Fado night" not in text  # neither is the text
    assert kind == "text"
    # The flat text holds a placeholder where a tool block was: never taken as the text.
    repl = rows(db, "SELECT text FROM messages WHERE id = ?", acc.R_A1)[0][0]
    assert repl == "The answer is 2."
    # Older messages have only the flat text.
    old = rows(db, "SELECT text FROM messages WHERE conversation_id = ? ORDER BY depth", acc.OLD)
    assert [r[0] for r in old] == ["Hello there", "Hi! How can I help?"]
    # Hidden thinking: only its summary, kept in raw_json; the answer's text is the text block.
    tiles = rows(db, "SELECT text, raw_json FROM messages WHERE id = ?", acc.T_A1)[0]
    assert tiles[0] == "Porcelain tiles fit the budget."
    assert json.loads(tiles[1])["content"][0]["summaries"][0]["summary"] == "Comparing tile prices"


def test_projects_attachments_files_and_artifacts(backed_up: Any, tmp_path: Path) -> None:
    _, db, summary = backed_up
    projects = rows(
        db,
        "SELECT id, provider, name, description, first_seen_at IS NOT NULL, "
        "last_seen_at IS NOT NULL, raw_json FROM projects ORDER BY name",
    )
    assert [p[:6] for p in projects] == [
        (acc.STARTER, "claude", "How to use Claude", "An example project", 1, 1),
        (acc.PROJECT, "claude", "Kitchen renovation", "Tiles, cabinets and the budget", 1, 1),
    ]
    assert json.loads(projects[1][6])["prompt_template"] == "Be frugal and cite prices."
    in_project = rows(
        db,
        "SELECT id FROM conversations WHERE gizmo_id = ? AND id NOT LIKE 'claude-%' ORDER BY id",
        acc.PROJECT,
    )
    assert [r[0] for r in in_project] == [acc.TILES, acc.REPL]
    assert rows(db, "SELECT is_archived FROM conversations WHERE id = ?", acc.OLD) == [(1,)]
    store = FileStore.for_database(tmp_path / "a.db")
    attachments = {
        (r[0], r[1]): r[2:]
        for r in rows(
            db,
            "SELECT message_node_id, asset_pointer, file_name, download_status, "
            "sha256 FROM attachments",
        )
    }
    # Two pasted texts with the same blank name: two rows, each with its own content stored.
    for index, content in enumerate(acc.LISBON_PASTED):
        name, status, sha = attachments[(acc.L_H1, f"pasted:{index}")]
        assert (name, status) == (None, "stored")
        assert store.path_for(sha).read_bytes() == content.encode()
    # The image listed in files and files_v2: one row, the preview's bytes (not the thumbnail).
    image = [k for k in attachments if k[1] == acc.IMAGE]
    assert image == [(acc.L_H1, acc.IMAGE)]
    _, status, sha = attachments[(acc.L_H1, acc.IMAGE)]
    assert status == "stored"
    assert sha == hashlib.sha256(acc.FILE_BYTES[(acc.IMAGE, "preview")]).hexdigest()
    assert store.path_for(sha).read_bytes() == acc.FILE_BYTES[(acc.IMAGE, "preview")]
    pdf = attachments[(acc.T_H1, acc.PDF)]
    assert pdf[1:] == (
        "stored",
        hashlib.sha256(acc.FILE_BYTES[(acc.PDF, "document_pdf")]).hexdigest(),
    )
    assert attachments[(acc.T_H1, acc.GONE)][1:] == ("gone", None)  # marked, not retried
    assert (summary.extra["files_stored"], summary.extra["files_gone"]) == (2, 1)
    # The artifact: both versions, the second the update applied to the first.
    versions = rows(
        db,
        "SELECT version, title, content FROM textdocs WHERE conversation_id = ? ORDER BY version",
        acc.LISBON,
    )
    assert versions == [
        (1, "Itinerary", acc.LISBON_ARTIFACT_V1),
        (2, "Itinerary", acc.LISBON_ARTIFACT_V2),
    ]
    # Project documents are searchable.
    hits = rows(
        db,
        "SELECT m.author_name, c.gizmo_id FROM messages_fts JOIN messages m ON "
        "m.rowid = messages_fts.rowid JOIN conversations c ON c.id = m.conversation_id "
        "WHERE messages_fts MATCH 'tiler'",
    )
    assert hits == [("contractors.txt", acc.PROJECT)]


def test_organizations_without_chat_are_not_listed(backed_up: Any) -> None:
    fake, _, _ = backed_up
    asked = fake.log()
    assert not [r for r in asked if acc.ORG_API in r["path"]]
    # The tree form with every tool block rendered.
    details = [r for r in asked if r["path"].endswith(acc.LISBON)]
    assert details[0]["query"] == {
        "tree": "True",
        "rendering_mode": "messages",
        "render_all_tools": "true",
    }


def test_a_second_run_makes_list_requests_only(backed_up: Any) -> None:
    fake, db, _ = backed_up
    before = len(fake.log())
    again = run(fake, db)
    assert again.exit_code == 0, again.errors
    assert (again.fetched, again.unchanged, again.new, again.updated) == (0, 5, 0, 0)
    asked = fake.paths(before)
    assert all(
        p.endswith(("/api/organizations", "/chat_conversations_v2", "/projects")) for p in asked
    ), asked
    assert again.requests == len(asked)
    # A touched conversation is fetched again, alone.
    fake.account.details[acc.OLD]["updated_at"] = "2026-03-05T00:00:00.000000Z"
    third = run(fake, db)
    assert (third.fetched, third.updated) == (1, 1)
    assert [p for p in fake.paths(before) if "/chat_conversations/" in p] == [
        f"GET /api/organizations/{acc.ORG}/chat_conversations/{acc.OLD}"
    ]


def test_full_marks_gone_with_the_guard(tmp_path: Path) -> None:
    with running_fake() as fake:
        db = open_db(tmp_path / "a.db")
        assert run(fake, db).exit_code == 0
        fake.account.deleted.add(acc.TILES)
        assert run(fake, db).marked_deleted == 0  # only --full concludes something is gone
        full = run(fake, db, full=True)
        assert full.marked_deleted == 1, full.errors
        assert rows(db, "SELECT id FROM conversations WHERE deleted_upstream_at IS NOT NULL") == [
            (acc.TILES,)
        ]
        assert rows(db, "SELECT count(*) FROM messages WHERE conversation_id = ?", acc.TILES) == [
            (2,)
        ]
        # An empty list (a wrong account, a broken upstream) marks nothing without --force.
        fake.account.deleted.update(acc.Account().details)
        empty = run(fake, db, full=True)
        assert empty.exit_code == EXIT_PARTIAL and empty.marked_deleted == 0
        assert "nothing was marked deleted" in empty.errors[-1]
        assert rows(
            db, "SELECT count(*) FROM conversations WHERE deleted_upstream_at IS NOT NULL"
        ) == [(1,)]


@pytest.mark.parametrize(
    "options",
    [
        FakeOptions(list_key="conversations", page_cap=1),
        FakeOptions(say_has_more=False, page_cap=2),
        FakeOptions(all_hides_archived_and_starred=True),
        FakeOptions(v2=False),
        FakeOptions(shift_while_paging=True, page_cap=2),
    ],
    ids=["conversations-key", "no-has-more", "all-without-archived-starred", "v1-only", "shifting"],
)
def test_list_variants_list_everything(tmp_path: Path, options: FakeOptions) -> None:
    with running_fake(options) as fake:
        db = open_db(tmp_path / "a.db")
        summary = run(fake, db)
    assert summary.exit_code == 0, summary.errors
    listed = rows(db, "SELECT id FROM conversations WHERE id NOT LIKE 'claude-%'")
    assert {r[0] for r in listed} == ALL


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_session_stops_with_exit_2(tmp_path: Path, status: int) -> None:
    with running_fake(FakeOptions(refuse=status)) as fake:
        db = open_db(tmp_path / "a.db")
        summary = run(fake, db)
    assert isinstance(summary.aborted, AuthError)
    assert summary.exit_code == EXIT_CONFIG
    assert str(summary.aborted).startswith(
        "the claude.ai session key was refused: copy a fresh one"
    )
    assert acc.SESSION_KEY not in str(summary.aborted)
    assert len(fake.log()) == 1  # nothing but the organizations


def test_cloudflare_stops_with_exit_3(tmp_path: Path) -> None:
    with running_fake(FakeOptions(cloudflare=True)) as fake:
        summary = run(fake, open_db(tmp_path / "a.db"))
    assert isinstance(summary.aborted, ChallengeError)
    assert summary.exit_code == EXIT_PARTIAL
    assert "Cloudflare" in str(summary.aborted) and "CLAUDE_USER_AGENT" in str(summary.aborted)


def test_the_session_key_goes_to_its_host_only_and_never_into_the_db(
    backed_up: Any, tmp_path: Path
) -> None:
    fake, db, summary = backed_up
    assert all(r["cookie"] == f"sessionKey={acc.SESSION_KEY}" for r in fake.log())
    assert all("Mozilla/" in r["user_agent"] for r in fake.log())
    db.conn.commit()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert acc.SESSION_KEY.encode() not in path.read_bytes(), path
    assert acc.SESSION_KEY not in summary.line() + "".join(summary.errors)


def test_429s_pause_and_a_usage_limit_stops_with_a_cooldown(tmp_path: Path) -> None:
    with running_fake(FakeOptions(throttle=2)) as fake:
        db = open_db(tmp_path / "a.db")
        throttled = run(fake, db)
    assert throttled.exit_code == 0, throttled.errors
    assert throttled.throttled == 2 and throttled.new == 5
    with running_fake(FakeOptions(usage_limit_on_lists=True)) as fake:
        db = open_db(tmp_path / "b.db")
        limited = run(fake, db)
    assert limited.exit_code == EXIT_PARTIAL
    assert "usage limit" in str(limited.aborted) and "2030-01-01T00:00:00Z" in str(limited.aborted)
    stored = rows(db, "SELECT provider, until FROM cooldowns")
    assert stored == [("claude:send", "2030-01-01T00:00:00.000000Z")]


def test_project_documents_are_read_when_the_project_changes_or_failed(tmp_path: Path) -> None:
    with running_fake(FakeOptions(docs_fail=2)) as fake:  # both tries of the first project
        db = open_db(tmp_path / "a.db")
        first = run(fake, db)
        assert first.exit_code == EXIT_PARTIAL and any(
            "documents of project" in e for e in first.errors
        )
        assert rows(db, "SELECT count(*) FROM conversations WHERE id LIKE 'claude-project:%'") == [
            (0,)
        ]
        second = run(fake, db)  # the failed read is tried again, the other project is not
        assert second.exit_code == 0, second.errors
        asked = [p for p in fake.paths() if p.endswith("/docs")]
        assert asked.count(f"GET /api/organizations/{acc.ORG}/projects/{acc.PROJECT}/docs") == 3
        assert asked.count(f"GET /api/organizations/{acc.ORG}/projects/{acc.STARTER}/docs") == 1
        assert rows(
            db,
            "SELECT count(*) FROM messages WHERE conversation_id = ?",
            f"claude-project:{acc.PROJECT}",
        ) == [(3,)]  # instructions and two documents
        before = len(fake.log())
        run(fake, db)
        assert not [p for p in fake.paths(before) if p.endswith("/docs")]
        fake.account.projects[0]["updated_at"] = "2026-03-09T00:00:00.000000Z"
        fake.account.docs[acc.PROJECT].append(
            {
                "uuid": "88888888-8888-4888-8888-000000000003",
                "file_name": "tiles.csv",
                "content": "terracotta,12 EUR",
                "created_at": "2026-03-09T00:00:00.000000Z",
            }
        )
        run(fake, db)
        hits = rows(
            db,
            "SELECT m.author_name FROM messages_fts JOIN messages m ON "
            "m.rowid = messages_fts.rowid WHERE messages_fts MATCH 'terracotta'",
        )
        assert hits == [("tiles.csv",)]
