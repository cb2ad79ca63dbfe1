"""The completion stream (``POST .../completion``, ``Accept: text/event-stream``) read into a
turn, and the same turn found again in the conversation. Sans-I/O.

``rendering_mode=messages`` streams Anthropic's message events: ``message_start`` (the new
assistant message's ``uuid``, its parent the new human message's), ``content_block_start`` /
``_delta`` / ``_stop`` (thinking, text, tool_use ... blocks, rebuilt here whole),
``message_delta`` (``stop_reason``), ``message_limit`` and ``message_stop``, which alone says
the answer is complete. The older stream sends ``{"type":"completion","completion":...}``
pieces. Bytes come in any chunking (a frame, a line, a UTF-8 character split anywhere; CRLF
line ends): the SSE parser joins them. The answer is the text blocks' text, never thinking."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archiver.errors import RateLimitExceeded, TransientError, UpstreamError
from archiver.loosejson import as_dict, as_str
from archiver.providers.claude.flatten import TEXT_JOIN, message_text
from archiver.providers.claude.options import ROOT_PARENT
from archiver.providers.claude.parse import read_error, usage_limit_stop
from archiver.timeutil import to_datetime, to_iso
from archiver.transport.sse import EventStreamReader, SSEEvent

log = logging.getLogger("archiver.claude.send")
WITHIN_LIMIT = "within_limit"


class AnswerPending(TransientError):
    """The prompt reached claude.ai but its answer is not finished: look again later, never
    send it again."""


@dataclass
class StreamedTurn:
    """One exchange: the human message and the assistant's answer to it."""

    assistant_uuid: str | None = None
    human_uuid: str | None = None
    model: str | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    complete: bool = False
    adopted: bool = False  # found in the conversation, not streamed
    limits: list[dict[str, Any]] = field(default_factory=list)  # message_limit warnings
    messages: list[dict[str, Any]] = field(default_factory=list)  # as upstream holds them

    @property
    def text(self) -> str:
        return TEXT_JOIN.join(
            b["text"] for b in self.blocks if b.get("type") == "text" and b.get("text")
        )


def describe_limit(limit: dict[str, Any]) -> str:
    """A ``message_limit`` for the log: its type and each window's use and reset."""
    parts = [as_str(limit.get("type")) or "limit"]
    for name, window in as_dict(limit.get("windows")).items():
        window = as_dict(window)
        used = window.get("utilization")
        share = f"{used:.0%} used" if isinstance(used, int | float) else "use unknown"
        resets = to_datetime(window.get("resets_at"))
        when = f", resets {to_iso(resets.timestamp())}" if resets else ""
        parts.append(f"{name}: {share}{when}")
    return "; ".join(parts)


class CompletionReader(EventStreamReader[StreamedTurn]):
    """Feed it the stream's bytes; ``close()`` gives the turn, or raises TransientError when
    the stream ended before ``message_stop`` (a cut stream: the caller looks before resending).
    ``on_text`` hears the answer text so far."""

    def __init__(self, on_text: Callable[[str], None] | None = None) -> None:
        super().__init__(on_text)
        self.turn = StreamedTurn()
        self._by_index: dict[int, dict[str, Any]] = {}

    def result(self) -> StreamedTurn:
        if not self.turn.complete:
            raise TransientError("the claude.ai answer stream ended before message_stop (cut)")
        return self.turn

    def text_so_far(self) -> str:
        return self.turn.text

    def take(self, event: SSEEvent) -> None:
        if not event.data.strip():
            return
        try:
            data = json.loads(event.data)
        except ValueError:
            return  # not JSON (a comment-like line): nothing to read
        if not isinstance(data, dict):
            return
        kind = as_str(data.get("type")) or event.event
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, data)

    # -- events -----------------------------------------------------------------------------

    def _message_start(self, data: dict[str, Any]) -> None:
        message = as_dict(data.get("message"))
        self.turn.assistant_uuid = as_str(message.get("uuid")) or self.turn.assistant_uuid
        self.turn.human_uuid = as_str(message.get("parent_uuid")) or self.turn.human_uuid
        self.turn.model = as_str(message.get("model")) or self.turn.model

    def _block_start(self, data: dict[str, Any]) -> None:
        block = dict(as_dict(data.get("content_block")))
        index = data.get("index")
        key = index if isinstance(index, int) else len(self._by_index)
        self._by_index[key] = block
        self.turn.blocks = [self._by_index[k] for k in sorted(self._by_index)]

    def _block_delta(self, data: dict[str, Any]) -> None:
        index = data.get("index")
        block = self._by_index.get(index) if isinstance(index, int) else None
        if block is None:  # a delta without its start: a block of its own
            self._block_start({"index": index, "content_block": {"type": "text", "text": ""}})
            block = self._by_index[index] if isinstance(index, int) else self.turn.blocks[-1]
        delta = as_dict(data.get("delta"))
        kind = as_str(delta.get("type")) or ""
        if kind == "text_delta":
            block["text"] = (as_str(block.get("text")) or "") + (as_str(delta.get("text")) or "")
        elif kind == "thinking_delta":
            block["thinking"] = (as_str(block.get("thinking")) or "") + (
                as_str(delta.get("thinking")) or ""
            )
        elif kind == "thinking_summary_delta":
            block.setdefault("summaries", []).append(delta.get("summary"))
        elif kind == "input_json_delta":
            block["partial_json"] = (as_str(block.get("partial_json")) or "") + (
                as_str(delta.get("partial_json")) or ""
            )
        else:  # an unknown delta: kept on its block, not lost
            block.setdefault("deltas", []).append(delta)

    def _block_stop(self, data: dict[str, Any]) -> None:
        index = data.get("index")
        block = self._by_index.get(index) if isinstance(index, int) else None
        if block is None:
            return
        if data.get("stop_timestamp"):
            block["stop_timestamp"] = data["stop_timestamp"]
        partial = block.pop("partial_json", None)
        if isinstance(partial, str) and partial and not block.get("input"):
            try:
                block["input"] = json.loads(partial)
            except ValueError:
                block["partial_json"] = partial

    def _message_delta(self, data: dict[str, Any]) -> None:
        reason = as_str(as_dict(data.get("delta")).get("stop_reason"))
        if reason:
            self.turn.stop_reason = reason

    def _message_limit(self, data: dict[str, Any]) -> None:
        limit = as_dict(data.get("message_limit")) or as_dict(data.get("messageLimit"))
        self._limit(limit)

    def _limit(self, limit: dict[str, Any]) -> None:
        kind = as_str(limit.get("type"))
        if not kind or kind == WITHIN_LIMIT:
            return
        if kind == "exceeded_limit":
            raise usage_limit_stop(limit)
        self.turn.limits.append(limit)
        log.warning("claude.ai warns of its usage limit: %s", describe_limit(limit))

    def _message_stop(self, data: dict[str, Any]) -> None:
        self.turn.complete = True

    def _completion(self, data: dict[str, Any]) -> None:
        """The older stream: pieces of one text block, ``stop_reason`` on the last."""
        if not self.turn.blocks:
            self._block_start({"index": 0, "content_block": {"type": "text", "text": ""}})
        block = self.turn.blocks[0]
        block["text"] = (as_str(block.get("text")) or "") + (as_str(data.get("completion")) or "")
        self.turn.model = as_str(data.get("model")) or self.turn.model
        self._limit(as_dict(data.get("messageLimit")))
        reason = as_str(data.get("stop_reason"))
        if reason:
            self.turn.stop_reason = reason
            self.turn.complete = True

    def _error(self, data: dict[str, Any]) -> None:
        error = read_error(data)
        if error is None:
            raise UpstreamError("the claude.ai answer stream sent an error")
        if error.limit is not None:
            raise usage_limit_stop(error.limit)
        said = f": {error.message[:200]}" if error.message else ""
        if error.kind == "rate_limit_error":
            raise RateLimitExceeded(f"the claude.ai answer stream was rate limited{said}")
        if error.kind in ("overloaded_error", "api_error"):
            raise TransientError(f"the claude.ai answer stream failed ({error.kind}){said}")
        raise UpstreamError(f"the claude.ai answer stream sent {error.kind or 'an error'}{said}")


_HANDLERS: dict[str, Callable[[CompletionReader, dict[str, Any]], None]] = {
    "message_start": CompletionReader._message_start,
    "content_block_start": CompletionReader._block_start,
    "content_block_delta": CompletionReader._block_delta,
    "content_block_stop": CompletionReader._block_stop,
    "message_delta": CompletionReader._message_delta,
    "message_limit": CompletionReader._message_limit,
    "message_stop": CompletionReader._message_stop,
    "completion": CompletionReader._completion,
    "error": CompletionReader._error,
}


# --- the same turn, found again ------------------------------------------------------------


def _parent(message: dict[str, Any]) -> str:
    return as_str(message.get("parent_message_uuid")) or ROOT_PARENT


def _newest(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    def when(m: dict[str, Any]) -> float:
        moment = to_datetime(m.get("created_at"))
        return moment.timestamp() if moment is not None else float("-inf")

    return max(messages, key=when) if messages else None


def adopted_turn(
    detail: Any,
    *,
    parent: str,
    prompt: str,
    human_uuid: str | None = None,
    assistant_uuid: str | None = None,
) -> StreamedTurn | None:
    """Our prompt's finished answer in the conversation (``?tree=True`` detail): the human
    message we sent (by its uuid when known, else the newest human child of ``parent`` with
    the prompt's text) and its assistant child. None when the prompt never arrived;
    AnswerPending when it did but no finished answer follows it."""
    raw = as_dict(detail).get("chat_messages")
    messages = [m for m in raw if isinstance(m, dict)] if isinstance(raw, list) else []
    humans = [m for m in messages if as_str(m.get("sender")) == "human"]
    asked = next((m for m in humans if human_uuid and m.get("uuid") == human_uuid), None)
    if asked is None:
        asked = _newest(
            [
                m
                for m in humans
                if _parent(m) == parent and (message_text(m) or "").strip() == prompt.strip()
            ]
        )
    if asked is None:
        return None
    answers = [
        m
        for m in messages
        if as_str(m.get("sender")) == "assistant" and _parent(m) == asked.get("uuid")
    ]
    answer = next((m for m in answers if assistant_uuid and m.get("uuid") == assistant_uuid), None)
    answer = answer or _newest(answers)
    if answer is None or not as_str(answer.get("stop_reason")):
        raise AnswerPending(
            "the prompt reached claude.ai but its answer is not finished yet: looking again "
            "before anything is sent"
        )
    content = answer.get("content")
    blocks = (
        [b for b in content if isinstance(b, dict)]
        if isinstance(content, list)
        else [{"type": "text", "text": message_text(answer) or ""}]  # an older flat message
    )
    return StreamedTurn(
        assistant_uuid=as_str(answer.get("uuid")),
        human_uuid=as_str(asked.get("uuid")),
        blocks=blocks,
        stop_reason=as_str(answer.get("stop_reason")),
        complete=True,
        adopted=True,
        messages=[asked, answer],
    )


__all__ = ["AnswerPending", "CompletionReader", "StreamedTurn", "adopted_turn", "describe_limit"]
