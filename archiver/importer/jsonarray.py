"""Stream the items of one top-level JSON array with the standard library's C parser.

The export is one big array of conversations. Rather than an event-by-event streaming parser,
this splits the array into items and parses each whole item with ``json``'s C scanner
(``JSONDecoder.raw_decode``), about twice as fast. Memory stays bounded by the largest item: the
text buffer holds one read chunk plus the item being parsed, and grows (doubling) only while one
item is bigger than that.

An item cut off by the end of the buffer is told apart from invalid JSON by where the parser
stopped: at (or near) the end of the buffer, or inside a string still open there, means "read
more and parse this item again"; anywhere else is an error in the file. At the end of the
stream every failure is an error. Positions in errors are characters from the start of the
stream."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

READ_SIZE = 1024 * 1024
# Parse errors this close to the end of the buffer may just be a cut item (a cut number,
# literal or escape); anything earlier is a real error.
_CUT_MARGIN = 16
_WHITESPACE = re.compile(r"[ \t\n\r]*")


class JSONArrayError(ValueError):
    """The stream is not (or stops being) a valid JSON array; the message says where."""


def iter_json_array(read: Callable[[int], bytes], read_size: int = READ_SIZE) -> Iterator[Any]:
    """Each item of the JSON array that ``read`` (a binary file's read) yields, in order.
    Raises JSONArrayError for text that is not a JSON array, invalid JSON, or a truncated
    stream, after yielding every complete item before the problem."""
    return _ArraySplitter(read, read_size).items()


class _ArraySplitter:
    def __init__(self, read: Callable[[int], bytes], read_size: int):
        self._read = read
        self._read_size = read_size
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._decode = json.JSONDecoder().raw_decode
        self._buf = ""
        self._pos = 0
        self._base = 0  # characters of the stream before self._buf
        self._eof = False
        self._bad_text: str | None = None  # why the stream stopped early (bad UTF-8)

    def _more(self, at_least: int) -> bool:
        """Append at least ``at_least`` characters to the buffer (fewer only at the end of the
        stream); drop what is already consumed. False when nothing more is there."""
        pieces = [self._buf[self._pos :]]
        got = 0
        while got < at_least and not self._eof:
            data = self._read(max(self._read_size, at_least - got))
            self._eof = not data
            try:
                text = self._utf8.decode(data, final=self._eof)
            except UnicodeDecodeError as exc:
                # Keep the text before the bad bytes (items there are still good) and stop.
                text = bytes(exc.object[: exc.start]).decode("utf-8")
                where = self._base + len(self._buf) + got + len(text)
                self._bad_text = f"invalid UTF-8 at character {where} ({exc.reason})"
                self._eof = True
            pieces.append(text)
            got += len(text)
        self._base += self._pos
        self._buf = "".join(pieces)
        self._pos = 0
        return got > 0

    def _skip_whitespace(self) -> bool:
        """Move to the next non-whitespace character, reading as needed; False at the end."""
        while True:
            end = _WHITESPACE.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            self._pos = end
            if end < len(self._buf):
                return True
            if not self._more(self._read_size):
                return False

    def _where(self, pos: int | None = None) -> str:
        return f"at character {self._base + (self._pos if pos is None else pos)}"

    def _expect_more(self, what: str) -> JSONArrayError:
        if self._bad_text:
            return JSONArrayError(self._bad_text)
        return JSONArrayError(f"the file ends {self._where()} where {what} was expected")

    def items(self) -> Iterator[Any]:
        if not self._skip_whitespace():
            raise JSONArrayError("the file is empty")
        if self._buf[self._pos] != "[":
            raise JSONArrayError(f"expected '[' {self._where()}")
        self._pos += 1
        if not self._skip_whitespace():
            raise self._expect_more("an item or ']'")
        if self._buf[self._pos] == "]":
            return
        while True:
            yield self._item()
            if not self._skip_whitespace():
                raise self._expect_more("',' or ']'")
            char = self._buf[self._pos]
            if char == "]":
                return
            if char != ",":
                raise JSONArrayError(f"expected ',' or ']' {self._where()}, found {char!r}")
            self._pos += 1
            if not self._skip_whitespace():
                raise self._expect_more("an item")

    def _item(self) -> Any:
        # Keep a chunk of look-ahead so that most items parse on the first attempt.
        if len(self._buf) - self._pos < self._read_size // 4 and not self._eof:
            self._more(self._read_size)
        while True:
            try:
                value, end = self._decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                if self._eof and self._bad_text and self._maybe_cut(exc):
                    raise JSONArrayError(self._bad_text) from None
                if self._eof or not self._maybe_cut(exc):
                    raise JSONArrayError(
                        f"{exc.msg.removesuffix(' at')} {self._where(exc.pos)}"
                    ) from None
            else:
                # An object, array or string ends at its closing character; a number near the
                # end of the buffer may go on ("1" of "1.5", "1.5" of "1.5e3").
                if (
                    isinstance(value, dict | list | str)
                    or self._eof
                    or end + _CUT_MARGIN < len(self._buf)
                ):
                    self._pos = end
                    return value
            # Double the window for this item: re-parsing costs at most twice its size.
            self._more(max(self._read_size, len(self._buf) - self._pos))

    def _maybe_cut(self, exc: json.JSONDecodeError) -> bool:
        return exc.pos >= len(self._buf) - _CUT_MARGIN or exc.msg.startswith("Unterminated string")
