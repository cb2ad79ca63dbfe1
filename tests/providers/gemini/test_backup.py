"""``backup_gemini``: against an independent fake serving the real captures, and end to end
against the emulator (two runs, the second list-only; every candidate kept; the failures)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Request, Response

from archiver.backup.engine import BackupOptions, BackupSummary
from archiver.backup.options import BackupRun
from archiver.config import Secret
from archiver.emulator import RunningEmulator, running_emulator
from archiver.errors import AuthError, ConfigError
from archiver.providers.gemini.backup import backup_gemini
from archiver.providers.gemini.client import GeminiRedirected, GeminiSettings
from archiver.providers.gemini.emulator import GeminiEmulatorConfig, GeminiWorld
from archiver.store import open_db
from archiver.transport.pace import ClientPace
from tests.support.fakes import fake_config
from tests.support.transport import FAST

FIXTURES = Path(__file__).parent / "fixtures"
COOKIE = "SID=x; __Secure-1PSID=emulator-psid; __Secure-1PSIDTS=emulator-psidts"


def backup(base_url: str, db: Any, cookie: str = COOKIE, **options: Any) -> BackupSummary:
    settings = GeminiSettings(Secret(cookie), base_url=base_url)
    return asyncio.run(
        backup_gemini(
            db, settings, BackupRun(ClientPace(None, policy=FAST), BackupOptions(**options))
        )
    )


# --- an independent fake: the real captures, served by pytest-httpserver ------------------


PAGE = '<script>window.WIZ_global_data = {"SNlM0e":"AT-1","cfb2h":"boq_1","FdrFJe":"7"};</script>'


def test_real_captures_back_up(httpserver: Any, tmp_path: Path) -> None:
    asked: list[tuple[str, Any]] = []

    def rpc(request: Request) -> Response:
        assert request.headers["Cookie"] == COOKIE
        assert request.form["at"] == "AT-1"
        assert request.args["rt"] == "c" and request.args["bl"] == "boq_1"
        [[rpcid, payload, _, _]] = json.loads(request.form["f.req"])[0]
        asked.append((rpcid, json.loads(payload)))
        if rpcid == "MaZiqc":
            pinned = json.loads(payload)[2][0] == 1
            if pinned:  # no pinned chats: an empty list
                body = ")]}'\n\n" + "".join(
                    f"{len(c) + 1}\n{c}\n"
                    for c in [json.dumps([["wrb.fr", "MaZiqc", "[]", None, None, None, "generic"]])]
                )
                return Response(body)
            return Response((FIXTURES / "commonplace_list_chats.txt").read_bytes())
        if json.loads(payload)[2] is None:  # the first page of a chat: the real capture
            return Response((FIXTURES / "commonplace_read_chat.txt").read_bytes())
        end = json.dumps(
            [["wrb.fr", "hNvQHb", "[[], null, null, []]", None, None, None, "generic"]]
        )
        return Response(f")]}}'\n\n{len(end) + 2}\n{end}\n")

    httpserver.expect_request("/app").respond_with_data(PAGE, content_type="text/html")
    httpserver.expect_request(
        "/_/BardChatUi/data/batchexecute", method="POST"
    ).respond_with_handler(rpc)
    db = open_db(tmp_path / "a.db")
    summary = backup(httpserver.url_for("").rstrip("/"), db)
    assert summary.exit_code == 0, summary.errors
    # The capture's list cursor is followed (and the fake answers the same page: it repeats,
    # which ends the walk); both lists are asked.
    assert [p[2][0] for r, p in asked if r == "MaZiqc"][:2] == [1, 0]
    assert (summary.listed, summary.new) == (5, 5)
    turns = db.execute(
        "SELECT conversation_id, id, parent_id, text, on_current_branch FROM messages "
        "WHERE conversation_id = 'c_60772b6269b693f9' ORDER BY depth"
    ).fetchall()
    # Oldest first, each prompt under the candidate it continued from.
    assert [t[3] for t in turns] == [
        "USER_TEXT_2",
        "MODEL_TEXT_2_0",
        "USER_TEXT_1",
        "MODEL_TEXT_1_0",
        "USER_TEXT_0",
        "MODEL_TEXT_0_0",
    ]
    assert turns[2][2] == "rc_27cc23f5a2bb7b88" and turns[4][2] == "rc_aecbf79218e79157"
    assert all(t[4] == 1 for t in turns)
    raw = db.execute(
        "SELECT raw_json FROM messages WHERE id = 'rc_2453ffca5d9ae4ad' LIMIT 1"
    ).fetchone()[0]
    assert json.loads(raw)["candidate"][37][0][0] == "MODEL_THOUGHTS_0_0"
    conversation = db.execute(
        "SELECT title, gizmo_id, update_time FROM conversations WHERE id = 'c_60772b6269b693f9'"
    ).fetchone()
    assert conversation == ("CHAT_TITLE_0", "f643ca308dd6", "2026-07-16T08:22:02.939572Z")
    assert db.execute("SELECT name FROM projects WHERE id = 'f643ca308dd6'").fetchone() == (
        "GEM_NAME",
    )


# --- end to end against the emulator -------------------------------------------------------


def emulator(**knobs: Any) -> Any:
    config = fake_config(
        chatgpt_conversations=0,
        bing_chats=0,
        provider_configs={"gemini": GeminiEmulatorConfig(**knobs)},
    )
    return running_emulator(config)


def world(emu: RunningEmulator) -> GeminiWorld:
    return emu.state.provider_state("gemini", lambda c: GeminiWorld(c))


def stored_ids(db: Any, cid: str) -> set[str]:
    return {r[0] for r in db.execute("SELECT id FROM messages WHERE conversation_id = ?", [cid])}


def test_two_runs_the_second_list_only_and_every_candidate_kept(tmp_path: Path) -> None:
    with emulator(chats=11) as emu:
        fake = world(emu)
        db = open_db(tmp_path / "a.db")
        first = backup(emu.base_url, db)
        assert first.exit_code == 0, first.errors
        assert (first.listed, first.new) == (11, 11)
        for cid, chat in fake.chats.items():
            expected = {t.rid for t in chat.turns} | {
                c[0] for t in chat.turns for c in t.candidates
            }
            assert stored_ids(db, cid) == expected
            shown = {
                r[0]
                for r in db.execute(
                    "SELECT id FROM messages WHERE conversation_id = ? AND role = 'assistant' "
                    "AND on_current_branch = 1",
                    [cid],
                )
            }
            assert shown == {t.chosen for t in chat.turns}
        assert db.execute(
            "SELECT count(*) FROM conversations WHERE gizmo_id = 'f643ca308dd6'"
        ).fetchone()[0] == sum(1 for c in fake.chats.values() if c.turns[0].gem)
        thoughts = db.execute(
            "SELECT count(*) FROM messages WHERE json_extract(raw_json, '$.candidate[37][0][0]') IS NOT NULL"
        ).fetchone()[0]
        assert thoughts > 0
        reads = fake.reads
        emu.state.request_log.clear()
        second = backup(emu.base_url, db)
        assert second.exit_code == 0, second.errors
        assert (second.fetched, second.new, second.updated) == (0, 0, 0)
        assert fake.reads == reads  # list requests only (and the app page for its token)
        assert {e["path"] for e in emu.request_log} == {"/app", "/_/BardChatUi/data/batchexecute"}


def test_a_new_turn_and_a_regenerated_answer_are_fetched(tmp_path: Path) -> None:
    with emulator(chats=6) as emu:
        fake = world(emu)
        db = open_db(tmp_path / "a.db")
        assert backup(emu.base_url, db).exit_code == 0
        cids = list(fake.chats)
        previous = fake.chats[cids[3]].turns[-1]
        turn = fake.add_turn(cids[3], "And one more?")
        again = fake.regenerate(cids[4])  # the chat's time does not move
        summary = backup(emu.base_url, db)
        assert summary.exit_code == 0, summary.errors
        assert summary.updated == 2 and summary.fetched == 2
        parent = db.execute(
            "SELECT parent_id, on_current_branch FROM messages WHERE conversation_id = ? AND id = ?",
            [cids[3], turn.rid],
        ).fetchone()
        assert parent == (previous.chosen, 1)
        branch = dict(
            db.execute(
                "SELECT id, on_current_branch FROM messages WHERE conversation_id = ? AND role = 'assistant'",
                [cids[4]],
            ).fetchall()
        )
        assert branch[again] == 1
        last = fake.chats[cids[4]].turns[-1]
        assert all(branch[c[0]] == 0 for c in last.candidates[:-1])  # earlier drafts kept


def test_full_marks_chats_gone_from_the_lists(tmp_path: Path) -> None:
    with emulator(chats=5) as emu:
        db = open_db(tmp_path / "a.db")
        assert backup(emu.base_url, db).exit_code == 0
        gone = next(iter(world(emu).chats.values()))
        gone.deleted = True
        summary = backup(emu.base_url, db, full=True)
        assert summary.marked_deleted == 1, summary.errors
        assert db.execute(
            "SELECT deleted_upstream_at IS NOT NULL FROM conversations WHERE id = ?", [gone.id]
        ).fetchone() == (1,)


def test_stale_token_and_throttles_are_recovered(tmp_path: Path) -> None:
    with emulator(chats=4, stale_token_after=2, throttle_reads=2) as emu:
        db = open_db(tmp_path / "a.db")
        summary = backup(emu.base_url, db)
        assert summary.exit_code == 0, summary.errors
        assert summary.new == 4
        assert summary.throttled == 2
        assert [e["path"] for e in emu.request_log].count("/app") == 2  # read again when stale


@pytest.mark.parametrize(
    ("knobs", "cookie", "error", "says"),
    [
        ({}, "__Secure-1PSID=wrong; __Secure-1PSIDTS=x", AuthError, "GEMINI_COOKIE"),
        ({"reject_rpcs": True}, COOKIE, AuthError, "reject code 7"),
        ({"redirect": "consent"}, COOKIE, GeminiRedirected, "consent"),
        ({"redirect": "sign_in"}, COOKIE, GeminiRedirected, "sign in"),
    ],
)
def test_refusals_stop_the_run(
    tmp_path: Path, knobs: dict[str, Any], cookie: str, error: type, says: str
) -> None:
    with emulator(chats=3, **knobs) as emu:
        db = open_db(tmp_path / "a.db")
        summary = backup(emu.base_url, db, cookie=cookie)
        assert isinstance(summary.aborted, error)
        assert says in str(summary.aborted)
        assert summary.exit_code == (2 if error is AuthError else 3)
        assert "emulator-psid" not in str(summary.aborted) and "wrong" not in str(summary.aborted)
        # A redirect to another host is followed without the cookie: it stays with its host.
        assert world(emu).cookies_elsewhere == 0
        if knobs.get("redirect"):
            assert {e["path"] for e in emu.request_log} == {"/app", *_ELSEWHERE[knobs["redirect"]]}


_ELSEWHERE = {"consent": {"/consent/ml"}, "sign_in": {"/ServiceLogin"}}


def test_a_cookie_without_1psid_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="__Secure-1PSID"):
        GeminiSettings(Secret("SID=abc; HSID=def"))
