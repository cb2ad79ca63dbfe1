"""batchexecute framing, sans-I/O: replies written here by hand from the documented shape
(``)]}'``, UTF-16 lengths, JSON inside JSON, ``wrb.fr``, error envelopes) and two real,
re-serialised captures."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from archiver.providers.gemini import batchexecute as bx

FIXTURES = Path(__file__).parent / "fixtures"


def found(reply: bx.Reply, rpcid: str, identifier: str | None = None) -> bx.RpcResult:
    """The reply's result for ``rpcid``, which the test expects to be there."""
    result = reply.result_for(rpcid, identifier)
    assert result is not None, rpcid
    return result


def chunk(value: object, indent: int | None = None) -> str:
    """``<length>\\n<JSON>\\n`` with the length in UTF-16 code units, counted from the newline
    after the digits through the newline after the JSON (as the protocol notes say)."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    units = sum(2 if ord(c) > 0xFFFF else 1 for c in "\n" + text + "\n")
    return f"{units}\n{text}\n"


def envelope(rpcid: str, result: object, error: object = None, ident: str = "generic") -> list:
    payload = None if result is None else json.dumps(result, ensure_ascii=False)
    return ["wrb.fr", rpcid, payload, None, None, error, ident]


def reply(*chunks: object, indent: int | None = None) -> bytes:
    return (")]}'\n\n" + "".join(chunk(c, indent) for c in chunks)).encode()


def test_encode_request_is_the_three_level_form() -> None:
    body = bx.encode_request([bx.Call("MaZiqc", [13, None, [1, None, 1]])], "AT:123")
    form = parse_qs(body.decode())
    assert form["at"] == ["AT:123"]
    assert json.loads(form["f.req"][0]) == [[["MaZiqc", "[13,null,[1,null,1]]", None, "generic"]]]


def test_result_is_json_inside_json_with_bookkeeping_around() -> None:
    body = reply(
        [envelope("MaZiqc", [None, "tCabc", [["c_0123456789abcdef", "Title"]]])],
        [["di", 59], ["af.httprm", 58, "-123", 12]],
        [["e", 4, None, None, 321]],
    )
    parsed = bx.parse_reply(body)
    assert parsed.complete
    result = parsed.result_for("MaZiqc")
    assert result is not None
    assert result.result == [None, "tCabc", [["c_0123456789abcdef", "Title"]]]
    assert result.identifier == "generic"
    assert result.error is None


def test_lengths_count_utf16_units_not_bytes_or_code_points() -> None:
    # An emoji is 2 UTF-16 units, 4 bytes, 1 code point; "é" is 1 unit, 2 bytes. Chunks
    # spread over lines can only be cut by their lengths: counted any other way, the first
    # chunk would end in the wrong place.
    text = "🙂 café 日本語 " * 20
    body = reply(
        [envelope("hNvQHb", [[text], None])],
        [envelope("MaZiqc", [], ident="second")],
        indent=1,
    )
    parsed = bx.parse_reply(body)
    assert found(parsed, "hNvQHb").result == [[text], None]
    assert found(parsed, "MaZiqc", "second").result == []


def test_without_rt_c_the_reply_is_one_array() -> None:
    body = (")]}'\n" + json.dumps([envelope("MaZiqc", [None, None, []])])).encode()
    assert found(bx.parse_reply(body), "MaZiqc").result == [None, None, []]


def test_refused_call_carries_code_7_and_no_result() -> None:
    result = found(bx.parse_reply(reply([envelope("hNvQHb", None, [7])])), "hNvQHb")
    assert result.result is None
    assert bx.error_codes(result.error) == [7]


def test_error_codes_read_nested_slots() -> None:
    nested = [5, None, [["type.googleapis.com/assistant.boq.bard.BardErrorInfo", [11]]]]
    assert bx.error_codes(nested) == [5, 11]
    assert bx.mentions(nested, "bardErrorInfo")
    assert bx.error_codes(["BardErrorInfo", 1096]) == [1096]
    assert bx.error_codes([True, 3]) == [3]  # booleans are no codes


def test_request_error_envelope_is_kept() -> None:
    body = (
        ")]}'\n\n"
        + json.dumps(
            [["er", None, None, None, None, 400, None, None, None, 3, [{"48448350": ["xsrf"]}]]]
        )
    ).encode()
    parsed = bx.parse_reply(body)
    assert parsed.results == []
    assert bx.mentions(parsed.request_errors, "xsrf")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<!doctype html><html>Sign in</html>",
        b")]}'\n\n",
        b')]}\'\n\n120\n[["wrb.fr","MaZiqc","[nu',  # cut inside a chunk
        b"\xff\xfe)]}'",
    ],
)
def test_bodies_that_are_not_batchexecute_are_refused(body: bytes) -> None:
    with pytest.raises(bx.FramingError):
        bx.parse_reply(body)


def test_a_result_string_that_is_not_json_is_refused() -> None:
    body = reply([["wrb.fr", "MaZiqc", "[not json", None, None, None, "generic"]])
    with pytest.raises(bx.FramingError):
        bx.parse_reply(body)


def test_real_list_capture_reads_by_lines_when_its_lengths_do_not_match() -> None:
    body = (FIXTURES / "commonplace_list_chats.txt").read_bytes()
    parsed = bx.parse_reply(body)
    assert parsed.complete
    rows = found(parsed, "MaZiqc").result[2]
    assert [r[0] for r in rows] == [
        "c_60772b6269b693f9",
        "c_8b53e6ba6df909a3",
        "c_83032b747586b587",
        "c_67150737ab3e068a",
        "c_fcdbcde9b3b12c1a",
    ]


def test_real_read_capture() -> None:
    body = (FIXTURES / "commonplace_read_chat.txt").read_bytes()
    result = found(bx.parse_reply(body), "hNvQHb").result
    assert len(result[0]) == 3
    assert result[1].startswith("tC")
