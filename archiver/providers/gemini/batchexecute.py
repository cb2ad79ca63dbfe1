"""Google's ``batchexecute`` framing, sans-I/O: the request body out, the reply's RPC results in
(docs/protocol/gemini.md, "batchexecute").

A reply is ``)]}'``, a blank line, then chunks ``<length>\\n<JSON>\\n``. The length counts
UTF-16 code units (JavaScript's ``String.length``) from the newline after the digits through the
newline after the JSON, so it is checked in UTF-16, not in bytes or code points. Each chunk is a
list of envelopes: ``["wrb.fr", rpcid, "<result as a JSON string>", null, null, <error>,
"<identifier>"]`` carries one RPC's result (JSON inside JSON: parsed twice); ``di``,
``af.httprm`` and the closing ``e`` are bookkeeping; ``er`` is a whole-request error (HTTP 400).
Without ``rt=c`` the reply is ``)]}'`` and one JSON array.

Published captures were re-serialised after redaction, so their lengths no longer match their
chunks: when the lengths do not frame the body, the chunks are read line by line instead (JSON
text has no raw newline). A body neither reading accepts is malformed or cut short.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

PREFIX = ")]}'"
_DIGITS = re.compile(r"\d+")
_COMPACT = (",", ":")


class FramingError(ValueError):
    """The body is not batchexecute framing (or was cut short): says where, never the text."""


@dataclass(frozen=True)
class Call:
    """One RPC of a request: its id, its payload (a value, sent as a JSON string) and the
    identifier its result comes back with."""

    rpcid: str
    payload: Any
    identifier: str = "generic"


@dataclass(frozen=True)
class RpcResult:
    """One ``wrb.fr`` envelope: ``result`` is the inner JSON parsed (None when the slot was
    null), ``error`` the error slot (None when there is none)."""

    rpcid: str
    result: Any
    error: Any
    identifier: str | None
    envelope: list[Any]


@dataclass(frozen=True)
class Reply:
    """A whole reply: its RPC results, the ``er`` envelopes of a refused request, and whether
    the closing ``e`` chunk arrived."""

    results: list[RpcResult]
    request_errors: list[list[Any]]
    complete: bool

    def result_for(self, rpcid: str, identifier: str | None = None) -> RpcResult | None:
        for result in self.results:
            if result.rpcid == rpcid and (identifier is None or result.identifier == identifier):
                return result
        return None


def encode_request(calls: Sequence[Call], at: str) -> bytes:
    """The form body: ``f.req=[[[rpcid, "<payload JSON>", null, identifier], ...]]`` and
    ``at=<token>``. Always the three-level form (the two-level one can come back empty)."""
    body = [
        [[c.rpcid, json.dumps(c.payload, separators=_COMPACT), None, c.identifier] for c in calls]
    ]
    return urlencode({"f.req": json.dumps(body, separators=_COMPACT), "at": at}).encode()


def _strip_prefix(text: str) -> str:
    text = text.lstrip("\ufeff")
    if not text.startswith(PREFIX):
        raise FramingError("the reply does not start with )]}'")
    return text[len(PREFIX) :].lstrip()


def _frames_by_length(text: str) -> list[Any] | None:
    """Chunks cut by their UTF-16 lengths; None when the lengths do not frame the body (a
    re-serialised capture, or a body cut short: the line reading then decides)."""
    units = text.encode("utf-16-le")
    total = len(units) // 2
    pos = 0
    frames: list[Any] = []
    while True:
        while pos < total and units[2 * pos : 2 * pos + 2].decode("utf-16-le").isspace():
            pos += 1
        if pos >= total:
            return frames
        head = units[2 * pos : 2 * min(total, pos + 12)].decode("utf-16-le", "replace")
        digits = _DIGITS.match(head)
        if digits is None:
            return None
        start = pos + len(digits[0])
        end = start + int(digits[0])
        if end > total:
            return None
        try:
            chunk = units[2 * start : 2 * end].decode("utf-16-le")
            frames.append(json.loads(chunk))
        except (UnicodeDecodeError, ValueError):
            return None
        pos = end


def _frames_by_line(text: str) -> list[Any]:
    frames: list[Any] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.isdigit():
            continue
        try:
            frames.append(json.loads(line))
        except ValueError:
            raise FramingError(f"chunk line {number} is not JSON (cut short?)") from None
    return frames


def split_frames(body: bytes | str) -> list[Any]:
    """The reply's chunks, each parsed once. Raises FramingError."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise FramingError("the reply is not UTF-8") from None
    text = _strip_prefix(text)
    if not text:
        raise FramingError("the reply is empty after )]}'")
    if text.startswith("["):  # no rt=c: one JSON array (or, rarely, lines of them)
        try:
            return [json.loads(text)]
        except ValueError:
            return _frames_by_line(text)
    framed = _frames_by_length(text)
    return framed if framed is not None else _frames_by_line(text)


def _envelopes(frames: Iterable[Any]) -> Iterable[list[Any]]:
    for frame in frames:
        if not isinstance(frame, list):
            continue
        if frame and isinstance(frame[0], str):  # a bare envelope, not a list of them
            yield frame
            continue
        for envelope in frame:
            if isinstance(envelope, list) and envelope and isinstance(envelope[0], str):
                yield envelope


def _inner(value: Any) -> Any:
    """The result slot: a JSON string parsed a second time (a value left as it is)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise FramingError("an RPC result is not JSON inside its string") from None
    return value


def _slot(envelope: list[Any], index: int) -> Any:
    return envelope[index] if len(envelope) > index else None


def parse_reply(body: bytes | str) -> Reply:
    """Every envelope of the reply, read. Raises FramingError for a body that is not
    batchexecute at all or was cut short."""
    results: list[RpcResult] = []
    request_errors: list[list[Any]] = []
    complete = False
    for envelope in _envelopes(split_frames(body)):
        kind = envelope[0]
        if kind == "wrb.fr":
            identifier = _slot(envelope, 6)
            results.append(
                RpcResult(
                    rpcid=str(_slot(envelope, 1) or ""),
                    result=_inner(_slot(envelope, 2)),
                    error=_slot(envelope, 5),
                    identifier=identifier if isinstance(identifier, str) else None,
                    envelope=envelope,
                )
            )
        elif kind == "er":
            request_errors.append(envelope)
        elif kind == "e":
            complete = True
    return Reply(results, request_errors, complete)


# --- what an error slot means --------------------------------------------------------------


def error_codes(error: Any) -> list[int]:
    """Every whole number in an error slot, in order: ``[7]`` → [7]; ``[5, null,
    [["type.googleapis.com/…BardErrorInfo", [11]]]]`` → [5, 11]; ``["BardErrorInfo", 1096]``
    → [1096]."""
    found: list[int] = []
    stack: list[Any] = [error]
    while stack:
        value = stack.pop(0)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            found.append(value)
        elif isinstance(value, list):
            stack[0:0] = value
    return found


def mentions(error: Any, word: str) -> bool:
    """Whether ``word`` appears in any string of the slot (``BardErrorInfo``, ``xsrf``)."""
    stack: list[Any] = [error]
    while stack:
        value = stack.pop()
        if isinstance(value, str) and word.lower() in value.lower():
            return True
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
    return False


__all__ = [
    "PREFIX",
    "Call",
    "FramingError",
    "Reply",
    "RpcResult",
    "encode_request",
    "error_codes",
    "mentions",
    "parse_reply",
    "split_frames",
]
