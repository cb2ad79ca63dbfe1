"""Sans-I/O: the ChatGPT ``POST conversation`` answer stream → the final assistant message.

Two encodings arrive over the same SSE transport (docs/protocol/chatgpt.md, "Sending a prompt"):

- classic: every ``data:`` frame carries the whole message so far (``parts[0]`` cumulative);
- delta v1 (``event: delta``): JSON-patch-like ops on a document numbered ``c``:
  ``add``/``replace``/``append``/``truncate``/``remove``/``patch`` (a list of ops). A bare
  ``{"v": ...}`` reuses the previous op's path and kind.

Both end with ``data: [DONE]``; v1 sends ``message_stream_complete`` just before it, which is
not the end: a stream cut between the two is broken, like one cut anywhere else. The 2026 form
(``f/conversation``) puts the user echo and the answer on channels of their own (``c``: one
document each), merges metadata with ``append`` on an object, names the title in
``title_generation``, and adds side frames (``resume_conversation_token``, ``input_message``,
``message_marker``, ``server_ste_metadata``, ``conversation_detail_metadata``,
``stream_handoff``, ``url_moderation``). Unknown frame types and unknown ops are ignored, never
fatal. A stream that ends without ``[DONE]``, or whose answer is still ``in_progress``, is
broken: ``StreamBroken`` is a TransientError, so the caller retries (or looks the answer up)
and never records it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archiver.errors import RateLimitExceeded, TransientError, UpstreamError
from archiver.flatten.content import content_text
from archiver.transport.sse import EventStreamReader, SSEEvent

DONE = "[DONE]"


class StreamBroken(TransientError):
    """The answer stream ended, or turned malformed, before the answer completed."""


class StreamFailed(UpstreamError):
    """The server reported an error inside the stream (not retried unless transient)."""


def new_id() -> str:
    return str(uuid.uuid4())


def build_request(
    prompt: str | None,
    *,
    parent_message_id: str,
    conversation_id: str | None = None,
    message_id: str | None = None,
    model: str | None = None,
    history_disabled: bool = False,
    action: str = "next",
) -> dict[str, Any]:
    """The JSON body of ``POST conversation``. ``action="continue"`` sends no message: it
    resumes the answer ``parent_message_id`` that stopped at ``max_tokens``."""
    body: dict[str, Any] = {"action": action, "parent_message_id": parent_message_id}
    if action == "next":
        body["messages"] = [
            {
                "id": message_id or new_id(),
                "author": {"role": "user"},
                "content": {"content_type": "text", "parts": [prompt or ""]},
                "metadata": {},
            }
        ]
    if conversation_id:
        body["conversation_id"] = conversation_id
    if model:
        body["model"] = model
    body["timezone_offset_min"] = 0
    body["history_and_training_disabled"] = history_disabled
    body["supported_encodings"] = ["v1"]
    return body


@dataclass
class StreamedAnswer:
    conversation_id: str | None
    message_id: str
    text: str
    status: str | None
    finish_details: dict[str, Any] | None
    message: dict[str, Any]  # the final assistant message as the stream left it
    messages: list[dict[str, Any]] = field(default_factory=list)  # every message, stream order
    title: str | None = None
    encoding: str = "classic"

    @property
    def cut_at_max_tokens(self) -> bool:
        return (self.finish_details or {}).get("type") == "max_tokens"


# --- delta v1 ops -------------------------------------------------------------------------


class _BadOp(Exception):
    pass


def _tokens(path: str) -> list[str]:
    if path in ("", "/"):
        return []
    if not path.startswith("/"):
        raise _BadOp(f"path {path!r} does not start with /")
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _index(container: list[Any], token: str, *, insert: bool = False) -> int:
    if token == "-":
        return len(container)
    try:
        index = int(token)
    except ValueError:
        raise _BadOp(f"list index {token!r}") from None
    limit = len(container) if insert else len(container) - 1
    if not 0 <= index <= limit:
        raise _BadOp(f"list index {index} out of range")
    return index


def _parent(doc: Any, tokens: list[str]) -> Any:
    """The container holding the last token; missing objects on the way are created."""
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict):
            if not isinstance(node.get(token), dict | list):
                node[token] = {}
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token)]
        else:
            raise _BadOp("path runs through a scalar")
    return node


def _get(container: Any, token: str) -> Any:
    if isinstance(container, dict):
        return container.get(token)
    if isinstance(container, list):
        if token == "-":
            return None
        index = _index(container, token, insert=True)
        return container[index] if index < len(container) else None
    raise _BadOp("path runs through a scalar")


def _set(container: Any, token: str, value: Any, *, insert: bool) -> None:
    if isinstance(container, dict):
        container[token] = value
    elif isinstance(container, list):
        index = _index(container, token, insert=True)
        if insert or index == len(container):
            container.insert(index, value)
        else:
            container[index] = value
    else:
        raise _BadOp("path runs through a scalar")


def apply_op(doc: Any, path: str, op: str, value: Any) -> Any:
    """Apply one op to ``doc`` (mutated in place); return the document (an op on the root path
    replaces it). Unknown ops leave the document alone."""
    tokens = _tokens(path)
    if op == "patch":
        if not isinstance(value, list):
            raise _BadOp("patch value is not a list")
        for inner in value:
            if not isinstance(inner, dict):
                raise _BadOp("patch entry is not an object")
            doc = apply_op(doc, inner.get("p", ""), inner.get("o", ""), inner.get("v"))
        return doc
    if op not in ("add", "replace", "append", "truncate", "remove"):
        return doc
    if not tokens:
        if op in ("add", "replace"):
            return value
        if op == "append":
            return _appended(doc, value)
        if op == "truncate":
            return _truncated(doc, value)
        return None
    container = _parent(doc, tokens)
    last = tokens[-1]
    if op == "add":
        _set(container, last, value, insert=True)
    elif op == "replace":
        _set(container, last, value, insert=False)
    elif op == "append":
        _set(container, last, _appended(_get(container, last), value), insert=False)
    elif op == "truncate":
        _set(container, last, _truncated(_get(container, last), value), insert=False)
    elif isinstance(container, dict):
        container.pop(last, None)
    elif isinstance(container, list):
        del container[_index(container, last)]
    return doc


def _appended(target: Any, value: Any) -> Any:
    if target is None:
        return value
    if isinstance(target, str) and isinstance(value, str):
        return target + value
    if isinstance(target, list):
        return target + (value if isinstance(value, list) else [value])
    if isinstance(target, dict) and isinstance(value, dict):
        return {**target, **value}
    raise _BadOp(f"cannot append {type(value).__name__} to {type(target).__name__}")


def _truncated(target: Any, length: Any) -> Any:
    if isinstance(target, str | list) and isinstance(length, int):
        return target[:length]
    raise _BadOp("cannot truncate")


# --- the assembler ------------------------------------------------------------------------


def _error_of(frame: dict[str, Any]) -> str | None:
    error = frame.get("error")
    if error in (None, "", False):
        return None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or "error")[:300]
    return str(error)[:300]


class StreamAssembler:
    """Feed SSE events; ``result()`` gives the final assistant message."""

    def __init__(self) -> None:
        self.encoding = "classic"
        self.done = False  # [DONE] arrived
        self.completed = False  # message_stream_complete arrived
        self.conversation_id: str | None = None
        self.title: str | None = None
        self._messages: dict[str, dict[str, Any]] = {}  # id → latest state, first-seen order
        self._documents: dict[int, Any] = {}
        self._current_doc = 0
        self._last_path = ""
        self._last_op = "append"

    def feed(self, event: SSEEvent) -> None:
        data = event.data.strip()
        if data == DONE:
            self.done = True
            return
        if event.event == "delta_encoding":
            self.encoding = "v1"
            return
        try:
            frame = json.loads(data)
        except ValueError:
            if event.event == "delta":
                raise StreamBroken("the answer stream carried a malformed delta") from None
            return  # a non-JSON side frame (pings, notices): not ours to interpret
        if event.event == "delta" and isinstance(frame, dict) and "v" in frame:
            self.encoding = "v1"
            self._delta(frame)
        elif isinstance(frame, dict):
            self._frame(frame)

    def _frame(self, frame: dict[str, Any]) -> None:
        error = _error_of(frame)
        if error is not None:
            raise _stream_error(error)
        kind = frame.get("type")
        if isinstance(frame.get("conversation_id"), str):
            self.conversation_id = frame["conversation_id"]
        if kind == "message_stream_complete":
            self.completed = True  # not the end: [DONE] still has to arrive
        elif kind == "title_generation" and isinstance(frame.get("title"), str):
            self.title = frame["title"]
        elif kind == "input_message" and isinstance(frame.get("input_message"), dict):
            self._remember(frame["input_message"])
        elif isinstance(frame.get("message"), dict):
            self._remember(frame["message"])

    def _delta(self, frame: dict[str, Any]) -> None:
        if isinstance(frame.get("c"), int):
            self._current_doc = frame["c"]
        path = frame["p"] if isinstance(frame.get("p"), str) else self._last_path
        op = frame["o"] if isinstance(frame.get("o"), str) else self._last_op
        value = frame["v"]
        doc = self._documents.get(self._current_doc)
        try:
            doc = apply_op(doc, path, op, value)
        except _BadOp as exc:
            raise StreamBroken(
                f"the answer stream carried a delta that does not apply ({exc})"
            ) from None
        self._documents[self._current_doc] = doc
        if op == "patch" and isinstance(value, list) and value and isinstance(value[-1], dict):
            path, op = value[-1].get("p", path), value[-1].get("o", op)
        self._last_path, self._last_op = path, op
        if isinstance(doc, dict):
            error = _error_of(doc)
            if error is not None:
                raise _stream_error(error)
            if isinstance(doc.get("conversation_id"), str):
                self.conversation_id = doc["conversation_id"]
            if isinstance(doc.get("message"), dict):
                self._remember(doc["message"])

    def _remember(self, message: dict[str, Any]) -> None:
        ident = message.get("id")
        if isinstance(ident, str) and ident:
            self._messages[ident] = message

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self._messages.values())

    def final_assistant(self) -> dict[str, Any] | None:
        assistants = [m for m in self._messages.values() if _role(m) == "assistant"]
        for message in reversed(assistants):
            if message.get("recipient") in (None, "all"):
                return message
        return assistants[-1] if assistants else None

    def text_so_far(self) -> str:
        """The text of the message ``result`` would give if the stream ended now, when it is
        a plain text answer to the user: not a tool call's query, not a reasoning model's
        thoughts (a stream must not show those as the answer; "" until the answer starts)."""
        message = self.final_assistant()
        if message is None or message.get("recipient") not in (None, "all"):
            return ""
        content = message.get("content")
        if not isinstance(content, dict) or content.get("content_type") != "text":
            return ""
        return content_text(content) or ""

    def result(self) -> StreamedAnswer:
        """The completed answer; StreamBroken if the stream did not complete."""
        message = self.final_assistant()
        if not self.done:
            raise StreamBroken("the answer stream ended before it completed (no [DONE])")
        if message is None:
            raise StreamBroken("the answer stream completed without an assistant message")
        status = message.get("status") if isinstance(message.get("status"), str) else None
        if status == "in_progress":
            raise StreamBroken("the answer stream ended with the answer still in progress")
        metadata = message.get("metadata")
        finish = metadata.get("finish_details") if isinstance(metadata, dict) else None
        return StreamedAnswer(
            conversation_id=self.conversation_id,
            message_id=message["id"],
            text=content_text(message.get("content")) or "",
            status=status,
            finish_details=finish if isinstance(finish, dict) else None,
            message=message,
            messages=self.messages,
            title=self.title,
            encoding=self.encoding,
        )


def _role(message: dict[str, Any]) -> str | None:
    author = message.get("author")
    return author.get("role") if isinstance(author, dict) else None


_THROTTLE_SIGNS = ("too many requests", "rate limit", "reached our limit", "usage cap")


def _stream_error(text: str) -> UpstreamError:
    lowered = text.lower()
    if any(sign in lowered for sign in _THROTTLE_SIGNS):
        return RateLimitExceeded(f"the answer stream reported: {text}")
    return StreamFailed(f"the answer stream reported: {text}")


class AnswerStreamReader(EventStreamReader[StreamedAnswer]):
    """Bytes of one ``POST conversation`` response → StreamedAnswer. ``on_text`` hears the
    answer's text so far after each event that changed it (classic frames and v1 patches
    alike), however the bytes were cut into chunks."""

    def __init__(self, on_text: Callable[[str], None] | None = None) -> None:
        super().__init__(on_text)
        self.assembler = StreamAssembler()

    def take(self, event: SSEEvent) -> None:
        self.assembler.feed(event)

    def text_so_far(self) -> str:
        return self.assembler.text_so_far()

    def result(self) -> StreamedAnswer:
        return self.assembler.result()
