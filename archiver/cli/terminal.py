"""What the commands print: archived text is hostile, and a terminal obeys escape sequences.

A title, a snippet, a model name or an upstream error message may hold ``ESC ] 0 ; ... BEL``
(sets the window title), ``ESC ] 52 ; ...`` (writes the clipboard) or a C1 control (``\\x9b``
is CSI in many terminals). ``echo`` strips every C0 and C1 control but newline and tab from
what it prints. JSON output stays exact instead: ``json_text`` escapes the controls JSON
leaves raw (DEL and C1), so the data is unchanged and the terminal sees none of them.
"""

from __future__ import annotations

import json
import re
from typing import IO, Any

import click

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_RAW_IN_JSON = re.compile(r"[\x7f-\x9f]")


def terminal_text(text: str) -> str:
    """``text`` without C0 and C1 control characters, newline and tab excepted."""
    return _CONTROLS.sub("", text)


def echo(message: str = "", *, err: bool = False) -> None:
    click.echo(terminal_text(message), err=err)


def json_text(value: Any) -> str:
    """Indented JSON (non-ASCII kept readable) in which no control character is raw."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


class TerminalStream:
    """A text stream for a terminal: what is written has its controls stripped."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(terminal_text(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()


__all__ = ["TerminalStream", "echo", "json_text", "terminal_text"]
