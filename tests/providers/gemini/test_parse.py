"""The live answers read (sans-I/O): the app page's tokens, list rows and turns from the real
captures, and what each error slot means."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.errors import AuthError, NotFoundError, RateLimitExceeded, UpstreamError
from archiver.providers.gemini import batchexecute as bx
from archiver.providers.gemini import parse

FIXTURES = Path(__file__).parent / "fixtures"


def capture(name: str, rpcid: str) -> object:
    reply = bx.parse_reply((FIXTURES / name).read_bytes())
    return parse.check_result(reply.result_for(rpcid), rpcid)


def test_page_tokens_from_wiz_global_data() -> None:
    page = (
        '<script>window.WIZ_global_data = {"cfb2h":"boq_build_1","FdrFJe":"-42",'
        '"SNlM0e": "AKlXz:1700000000000","TuX5cc":"en-GB","qKIAYe":"feeds/x"};</script>'
    )
    assert parse.page_tokens(page) == parse.PageTokens(
        "AKlXz:1700000000000", "boq_build_1", "-42", "en-GB"
    )


@pytest.mark.parametrize("page", ["<html>Sign in</html>", '{"SNlM0e":""}'])
def test_a_page_without_the_token_is_signed_out(page: str) -> None:
    assert parse.page_tokens(page) is None


def test_list_rows_from_the_real_capture() -> None:
    chats, cursor, unreadable = parse.parse_list_result(
        capture("commonplace_list_chats.txt", "MaZiqc")
    )
    assert cursor is not None and cursor.startswith("tC")
    assert unreadable == []
    first = chats[0]
    assert (first.conversation_id, first.title, first.pinned) == (
        "c_60772b6269b693f9",
        "CHAT_TITLE_0",
        False,
    )
    # [1784190122, 939572000]: exact, no float rounding.
    assert first.update_time == "2026-07-16T08:22:02.939572Z"
    assert first.latest == "rc_1fc6c21f34183d48"
    times = [c.update_time or "" for c in chats]
    assert times == sorted(times, reverse=True)


def test_list_edge_shapes() -> None:
    assert parse.parse_list_result([]) == ([], None, [])
    chats, cursor, unreadable = parse.parse_list_result(
        [None, None, [["c_1234567890abcdef", "t", True], ["not-a-chat"], "junk"]]
    )
    assert [c.pinned for c in chats] == [True]
    assert cursor is None
    assert len(unreadable) == 2
    with pytest.raises(UpstreamError):
        parse.parse_list_result({"rows": []})


def test_turns_from_the_real_capture() -> None:
    turns, cursor = parse.parse_read_result(capture("commonplace_read_chat.txt", "hNvQHb"))
    assert cursor is not None and cursor.startswith("tC")
    newest = turns[0]
    assert parse.turn_id(newest) == "r_96c0b2fcb81a51a5"
    # Each turn names the turn (and candidate) it continues: the next one in the page.
    assert parse.turn_parent(newest) == ("r_15ac38a8a9c81972", "rc_aecbf79218e79157")
    assert parse.turn_id(turns[1]) == "r_15ac38a8a9c81972"
    assert parse.turn_prompt(newest) == "USER_TEXT_0"
    assert parse.turn_time(newest) == "2025-06-17T06:27:18.548904Z"
    assert parse.turn_chosen(newest) == "rc_2453ffca5d9ae4ad"
    assert parse.turn_gem(newest) == ("f643ca308dd6", "GEM_NAME")
    [candidate] = parse.turn_candidates(newest)
    assert parse.candidate_id(candidate) == "rc_2453ffca5d9ae4ad"
    assert parse.candidate_text(candidate) == "MODEL_TEXT_0_0"
    assert parse.candidate_thoughts(candidate) == "MODEL_THOUGHTS_0_0"
    assert parse.candidate_finished(candidate)


def test_card_placeholder_reads_the_text_at_22() -> None:
    candidate: list = [None] * 23
    candidate[1] = ["http://googleusercontent.com/card_content/0"]
    candidate[22] = ["The card's text"]
    assert parse.candidate_text(candidate) == "The card's text"


def result(error: object, value: object = None) -> bx.RpcResult:
    return bx.RpcResult("hNvQHb", value, error, "generic", [])


def test_error_slots() -> None:
    assert parse.check_result(result(None, [[], None]), "hNvQHb") == [[], None]
    with pytest.raises(AuthError, match=r"GEMINI_COOKIE.*fresh"):
        parse.check_result(result([7]), "hNvQHb")
    with pytest.raises(NotFoundError):
        parse.check_result(
            result([5, None, [["type.googleapis.com/x.BardErrorInfo", [11]]]]), "hNvQHb"
        )
    with pytest.raises(RateLimitExceeded):
        parse.check_result(result(["BardErrorInfo", 1096]), "MaZiqc")
    with pytest.raises(RateLimitExceeded):  # an empty answer: throttled, retried
        parse.check_result(result(None), "hNvQHb")
    with pytest.raises(RateLimitExceeded):
        parse.check_result(None, "hNvQHb")
    with pytest.raises(UpstreamError) as other:
        parse.check_result(result([3]), "hNvQHb")
    assert other.value.exit_code == 1  # this call failed; the run goes on
