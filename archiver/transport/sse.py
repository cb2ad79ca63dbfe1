"""Sans-I/O Server-Sent Events parser: bytes in any chunking → events.

Follows the WHATWG event-stream rules that matter here: lines end in CRLF, LF or CR (a CR at
the end of one chunk and an LF at the start of the next are one line end); ``field: value``
with one optional space after the colon; several ``data`` lines join with ``\\n``; a blank line
dispatches the event; lines starting with ``:`` are comments. Lines can be megabytes long (a
whole message in one ``data:`` line), so the buffer grows as needed and is never rescanned from
its start: a chunk is searched only from where the previous search stopped.

``EventStreamReader`` is what a streamed answer's reader shares (ChatGPT's, Claude's): bytes
fed in, events taken one by one, the answer's text so far told as it grows, a result at the end.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class SSEEvent:
    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEParser:
    def __init__(self) -> None:
        self._buffer = bytearray()
        self._scanned = 0  # bytes of _buffer already known to hold no line end
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF belongs to it
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None
        self._has_data = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Add bytes; return the events they complete, in order."""
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        self._buffer += chunk
        return list(self._drain())

    def close(self) -> list[SSEEvent]:
        """The stream ended. A last line without its line end still counts; an event whose
        blank line never came is dispatched too (servers often end right after ``[DONE]``)."""
        events = list(self._drain())
        if self._buffer:
            self._line(bytes(self._buffer))
            self._buffer.clear()
            self._scanned = 0
        event = self._dispatch()
        if event is not None:
            events.append(event)
        return events

    def _drain(self) -> Iterator[SSEEvent]:
        buffer = self._buffer
        start = 0
        position = self._scanned
        length = len(buffer)
        while position < length:
            lf = buffer.find(b"\n", position)
            cr = buffer.find(b"\r", position, lf if lf >= 0 else length)
            if cr >= 0:
                end, next_start = cr, cr + 1
                if cr + 1 < length:
                    if buffer[cr + 1] == 0x0A:
                        next_start = cr + 2
                else:
                    self._skip_lf = True  # the LF of this CRLF may come in the next chunk
            elif lf >= 0:
                end, next_start = lf, lf + 1
            else:
                position = length
                break
            line = bytes(buffer[start:end])
            start = position = next_start
            event = self._line(line)
            if event is not None:
                yield event
        del buffer[:start]
        self._scanned = len(buffer)

    def _line(self, raw: bytes) -> SSEEvent | None:
        if not raw:
            return self._dispatch()
        line = raw.decode("utf-8", errors="replace")
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._has_data = True
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        if not self._has_data:
            self._event = ""
            return None
        event = SSEEvent(
            data="\n".join(self._data),
            event=self._event or "message",
            id=self._id,
            retry=self._retry,
        )
        self._data = []
        self._has_data = False
        self._event = ""
        return event


class EventStreamReader(ABC, Generic[T]):
    """An answer read from an event stream as its bytes come, in any chunking: a subclass
    ``take``s each event and says what they made (``result``) once the stream ended.
    ``on_text`` hears the answer's text so far (``text_so_far``) after each event that
    changed it."""

    def __init__(self, on_text: Callable[[str], None] | None = None) -> None:
        self.parser = SSEParser()
        self.on_text = on_text
        self._told = ""

    def feed(self, chunk: bytes) -> None:
        for event in self.parser.feed(chunk):
            self._event(event)

    def close(self) -> T:
        """The stream ended: its last events, then what they all made."""
        for event in self.parser.close():
            self._event(event)
        return self.result()

    def _event(self, event: SSEEvent) -> None:
        self.take(event)
        if self.on_text is not None:
            text = self.text_so_far()
            if text != self._told:
                self._told = text
                self.on_text(text)

    @abstractmethod
    def take(self, event: SSEEvent) -> None: ...

    @abstractmethod
    def text_so_far(self) -> str: ...

    @abstractmethod
    def result(self) -> T: ...
