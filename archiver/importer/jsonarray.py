"""Split one top-level JSON array into the bytes of its items, streaming.

The export is one big array of conversations. Each item is found whole in the byte stream and
handed on as its own JSON text, so that the flattener can parse it once and keep slices of it
(each message's raw JSON) without re-encoding anything. Memory stays bounded by the largest
item: the buffer holds one read chunk plus the item being cut, and grows (doubling) only while
one item is bigger than that.

Where an item ends is found by msgspec's validating skip (a C scan, about 1.5 GB/s): decoding
the buffer from the item's start as a raw value either stops at "trailing characters (byte N)"
(the N-th byte, counted from 1, is the ',' or ']' after the item), or says the input was truncated
(read more and try again), or names an invalid byte. Two things msgspec refuses that ``json``
accepts (a lone surrogate escape ``\\ud800``, which it reports as a truncation, and NaN/Infinity)
are handled by asking ``json`` once the item is already large or the file has ended, so every
array ``json.loads`` accepts is split the same way. An item nested deeper than either parser
goes (both recurse; a thousand levels are enough) is cut by counting brackets instead, and left
to its parser to refuse. An item larger than ``max_item`` bytes (a zip bomb: a small zip whose
one message inflates to gigabytes) is read past, never held, and stands as a ``TooLarge`` in
the items. Positions in errors are bytes from the start of the stream.

The array may also be one member of a top-level object (``{"conversations": [...], ...}``):
``iter_raw_member_items`` streams that member's items the same way, and hands back the other
members' JSON text whole (they are cut like items, so each must fit in memory)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

READ_SIZE = 1024 * 1024
_WHITESPACE = re.compile(rb"[ \t\n\r]*")
_TRAILING = re.compile(r"trailing characters \(byte (\d+)\)")
_AT_BYTE = re.compile(r"\(byte (\d+)\)")
_WS = b" \t\n\r"
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_skip = msgspec.json.Decoder(msgspec.Raw).decode
# json's C scanner, for the rare items msgspec will not cut (see the module docstring).
_scan = json.JSONDecoder().raw_decode
# Counting brackets (for items nested too deeply to parse): the next bracket or quote, and the
# rest of a string after its opening quote.
_BRACKET_OR_QUOTE = re.compile(rb'[\[\]{}"]')
_STRING_REST = re.compile(rb'(?:[^"\\]|\\.)*"', re.DOTALL)
_QUOTE_OR_BACKSLASH = re.compile(rb'["\\]')


@dataclass(frozen=True)
class TooLarge:
    """An item bigger than the splitter's ``max_item``: read past, not kept."""

    size: int  # its bytes


class JSONArrayError(ValueError):
    """The stream is not (or stops being) a valid JSON array; the message says where."""


def iter_raw_items(read: Callable[[int], bytes], read_size: int = READ_SIZE) -> Iterator[bytes]:
    """The JSON text of each item of the array that ``read`` (a binary file's read) yields,
    in order. Raises JSONArrayError for text that is not a JSON array, an item that is not
    valid JSON, or a truncated stream, after yielding every complete item before the problem.
    Items are not checked for valid UTF-8 (their parser does that)."""
    for item in _Splitter(read, read_size).items():
        assert isinstance(item, bytes)  # (no max_item: every item is kept)
        yield item


def iter_capped_items(
    read: Callable[[int], bytes], max_item: int | None, read_size: int = READ_SIZE
) -> Iterator[bytes | TooLarge]:
    """``iter_raw_items``, with a TooLarge in place of an item over ``max_item`` bytes."""
    return _Splitter(read, read_size, max_item).items()


def iter_raw_member_items(
    read: Callable[[int], bytes],
    member: str,
    others: dict[str, bytes] | None = None,
    read_size: int = READ_SIZE,
) -> Iterator[bytes]:
    """The JSON text of each item of the array that is the value of ``member`` in the
    top-level object ``read`` yields, in order; ``others`` (when given) receives every other
    member's name and JSON text, the ones after the array once the iteration ends. Raises
    JSONArrayError, after yielding every complete item before the problem, for text that is
    not such an object, a ``member`` that is missing or not an array, or a truncated stream."""
    return _Splitter(read, read_size).member_items(member, others)


def iter_json_array(read: Callable[[int], bytes], read_size: int = READ_SIZE) -> Iterator[Any]:
    """Each item of the array, parsed (``json``: every JSON value as Python reads it)."""
    for item in iter_raw_items(read, read_size):
        try:
            yield json.loads(item)
        except UnicodeDecodeError as exc:
            raise JSONArrayError(f"invalid UTF-8 in an item ({exc.reason})") from None


class _Splitter:
    def __init__(self, read: Callable[[int], bytes], read_size: int, max_item: int | None = None):
        self._read = read
        self._read_size = max(1, read_size)
        self._max_item = max_item
        self._buf = b""
        self._pos = 0
        self._base = 0  # bytes of the stream before self._buf
        self._eof = False

    def _more(self, at_least: int) -> bool:
        """Append at least ``at_least`` bytes to the buffer (fewer only at the end of the
        stream); drop what is already consumed. False when nothing more is there."""
        pieces = [self._buf[self._pos :]]
        got = 0
        while got < at_least and not self._eof:
            data = self._read(max(self._read_size, at_least - got))
            self._eof = not data
            pieces.append(data)
            got += len(data)
        self._base += self._pos
        self._buf = b"".join(pieces)
        self._pos = 0
        return got > 0

    def _skip_whitespace(self) -> bool:
        """Move to the next non-whitespace byte, reading as needed; False at the end."""
        while True:
            end = _WHITESPACE.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            self._pos = end
            if end < len(self._buf):
                return True
            if not self._more(self._read_size):
                return False

    def _where(self, pos: int | None = None) -> str:
        return f"at byte {self._base + (self._pos if pos is None else pos)}"

    def _expect_more(self, what: str) -> JSONArrayError:
        return JSONArrayError(f"the file ends {self._where()} where {what} was expected")

    def _next_byte(self, what: str) -> bytes:
        """The next byte that is not whitespace, left unread (reading as needed); raises,
        naming ``what`` was expected there, when the stream ends first."""
        if not self._skip_whitespace():
            raise self._expect_more(what)
        return self._buf[self._pos : self._pos + 1]

    def _step_over(self, token: bytes) -> None:
        """Step over ``token``, which must stand at the position."""
        if self._buf[self._pos : self._pos + 1] != token:
            raise JSONArrayError(f"expected '{token.decode()}' {self._where()}")
        self._pos += 1

    def _closed(self, close: bytes) -> bool:
        """After a value: step over the ',' that says more follows (False) or the ``close``
        that ends the array or object (True)."""
        expected = f"',' or '{close.decode()}'"
        char = self._next_byte(expected)
        if char not in (b",", close):
            raise JSONArrayError(f"expected {expected} {self._where()}, found {char!r}")
        self._pos += 1
        return char == close

    def items(self) -> Iterator[bytes | TooLarge]:
        if not self._skip_whitespace():
            raise JSONArrayError("the file is empty")
        yield from self._array()

    def member_items(self, member: str, others: dict[str, bytes] | None) -> Iterator[bytes]:
        if not self._skip_whitespace():
            raise JSONArrayError("the file is empty")
        self._step_over(b"{")
        found = False
        while True:
            char = self._next_byte("a member or '}'")
            if char == b"}":
                break
            if char != b'"':
                raise JSONArrayError(f"expected a member name {self._where()}, found {char!r}")
            name = json.loads(self._text())
            self._next_byte("':'")
            self._step_over(b":")
            self._next_byte("a value")
            if name == member and not found:
                found = True
                if self._buf[self._pos : self._pos + 1] != b"[":
                    raise JSONArrayError(f"{member!r} is not an array ({self._where()})")
                for item in self._array():
                    assert isinstance(item, bytes)  # (no max_item here: every item is kept)
                    yield item
            elif others is not None:
                others[name] = self._text()
            else:
                self._text()
            if self._closed(b"}"):
                break
        if not found:
            raise JSONArrayError(f"the object has no {member!r} member")

    def _array(self) -> Iterator[bytes | TooLarge]:
        """The items of the array that starts at the current position (its '['), which ends
        just after its ']'."""
        self._step_over(b"[")
        if self._next_byte("an item or ']'") == b"]":
            self._pos += 1
            return
        while True:
            yield self._item()
            if self._closed(b"]"):
                return
            self._next_byte("an item")

    def _text(self) -> bytes:
        """The next value whole (a member's name or value: no size limit applies)."""
        value = self._cut()
        assert isinstance(value, bytes)  # (only an item over max_item is TooLarge)
        return value

    def _item(self) -> bytes | TooLarge:
        item = self._cut()
        if isinstance(item, bytes) and self._max_item is not None and len(item) > self._max_item:
            return TooLarge(len(item))  # (it fitted in one read)
        return item

    def _cut(self) -> bytes | TooLarge:
        # Keep a chunk of look-ahead so that most items are cut on the first attempt.
        if len(self._buf) - self._pos < self._read_size // 4 and not self._eof:
            self._more(self._read_size)
        while True:
            start = self._pos
            try:
                _skip(memoryview(self._buf)[start:])
            except RecursionError:
                found = self._by_brackets()
                if found is not None:
                    return found
            except msgspec.DecodeError as exc:
                message = str(exc)
                trailing = _TRAILING.search(message)
                if trailing:
                    # msgspec counts the first trailing byte from 1.
                    end = start + int(trailing[1]) - 1
                    self._pos = end
                    return self._buf[start:end].rstrip(_WS)
                found = self._ask_json(message)
                if found is not None:
                    return found
            else:
                # The value runs to the end of the buffer: at the end of the stream it is the
                # last item; otherwise a number may go on ("1" of "12"), so read on.
                if self._eof:
                    self._pos = len(self._buf)
                    return self._buf[start:].rstrip(_WS)
            # Double the window for this item: cutting it again costs at most twice its size.
            window = len(self._buf) - self._pos
            more = max(self._read_size, window)
            if self._max_item is not None:
                if window > self._max_item:
                    return TooLarge(self._read_past())
                more = min(more, self._max_item + 1 - window)
            self._more(more)

    def _read_past(self) -> int:
        """Read past the item at the position, dropping it as it goes (memory stays at one
        read), by its brackets and strings; return its size in bytes."""
        begin = self._base + self._pos
        if self._buf[self._pos : self._pos + 1] not in (b"[", b"{", b'"'):
            raise JSONArrayError(f"an item too large to read {self._where()}")
        depth, in_string, escaped = 0, False, False
        while True:
            buf, pos = self._buf, self._pos
            while True:
                if escaped:  # the byte after a backslash, perhaps in the next read
                    if pos >= len(buf):
                        break
                    pos, escaped = pos + 1, False
                    continue
                found = (_QUOTE_OR_BACKSLASH if in_string else _BRACKET_OR_QUOTE).search(buf, pos)
                if found is None:
                    pos = len(buf)
                    break
                pos = found.end()
                char = found[0]
                if char == b"\\":
                    escaped = True
                    continue
                if char == b'"':
                    in_string = not in_string
                    ended = not in_string and depth == 0  # an item that is one string
                else:
                    depth += 1 if char in b"[{" else -1
                    ended = depth == 0
                if ended:
                    self._pos = pos
                    return self._base + pos - begin
            self._pos = pos
            if not self._more(self._read_size):
                raise JSONArrayError(f"the file ends {self._where()} in the middle of an item")

    def _by_brackets(self) -> bytes | None:
        """The item at the buffer's position, cut where its brackets close (None: read more).
        Only for an item nested too deeply to parse: nothing in it is checked."""
        depth, pos = 0, self._pos
        while True:
            found = _BRACKET_OR_QUOTE.search(self._buf, pos)
            if found is None:
                break
            pos = found.end()
            char = found[0]
            if char == b'"':
                rest = _STRING_REST.match(self._buf, pos)
                if rest is None:
                    break
                pos = rest.end()
            elif char in b"[{":
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    item = self._buf[self._pos : pos]
                    self._pos = pos
                    return item
        if self._eof:
            raise JSONArrayError(
                f"the file ends {self._where(len(self._buf))} in the middle of an item"
            )
        return None

    def _ask_json(self, message: str) -> bytes | None:
        """msgspec could not cut the item: the item is cut short by the buffer (None: read
        more), or ``json`` decides (it accepts what msgspec does not), or it is invalid."""
        truncated = "truncated" in message
        if truncated and not self._eof:
            # The common case: the item goes on past the buffer. Only a large item that holds
            # a surrogate escape may be a lone surrogate that msgspec takes for a truncation.
            window = len(self._buf) - self._pos
            if window <= 2 * self._read_size or not _SURROGATE.search(self._buf, self._pos):
                return None
        # A large item or the end of the stream: let json say whether the item ends here.
        text = self._buf[self._pos :].decode("utf-8", "surrogateescape")
        try:
            _value, end_char = _scan(text)
        except json.JSONDecodeError as exc:
            near_end = exc.pos >= len(text) - 16 or exc.msg.startswith("Unterminated string")
            if near_end and not self._eof:
                return None
            at = len(text[: exc.pos].encode("utf-8", "surrogateescape"))
            if truncated or near_end:
                raise JSONArrayError(
                    f"the file ends {self._where(len(self._buf))} in the middle of an item"
                ) from None
            invalid = _AT_BYTE.search(message)
            where = self._pos + (int(invalid[1]) if invalid else at)
            raise JSONArrayError(f"{exc.msg} {self._where(where)}") from None
        end = self._pos + len(text[:end_char].encode("utf-8", "surrogateescape"))
        if end + 16 >= len(self._buf) and not self._eof and text[end_char - 1] not in '}]"':
            return None  # a number near the end of the buffer may go on ("0" of "0.5")
        item = self._buf[self._pos : end]
        self._pos = end
        return item
