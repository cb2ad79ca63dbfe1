"""Bing ChatHub: the websocket record protocol (docs/protocol/bing.md).

Sans-I/O parts — ``RecordSplitter`` (frames → JSON records on ``\\x1e``, several records per
frame, records split across frames, even inside a UTF-8 character) and ``ChatHubTurn`` (one
invocation: handshake, keep-alives, type 1 updates, type 2 final item, type 3 end, type 7
error) — and one thin I/O driver, ``run_turn``, over a transport's websocket. A turn is one call:
the caller wraps it in ``call_with_retries`` so the shared limiter and retry policy apply.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from archiver.errors import (
    AuthError,
    BadRequestError,
    QuotaExhausted,
    TransientError,
    UpstreamError,
)
from archiver.timeutil import utc_now_iso
from archiver.transport.base import SocketRefused, Transport, connected, messages
from archiver.transport.responses import raise_for_status
from archiver.transport.socket_turn import socket_failures

RS = "\x1e"
HANDSHAKE = json.dumps({"protocol": "json", "version": 1}) + RS
PING = json.dumps({"type": 6}) + RS
CHATHUB_PATH = "sydney/ChatHub"
KEEPALIVE_SECONDS = 15.0

DEFAULT_OPTIONS_SETS = (
    "nlu_direct_response_filter",
    "deepleo",
    "disable_emoji_spoken_text",
    "responsible_ai_policy_235",
    "enablemm",
    "dv3sugg",
)
DEFAULT_MESSAGE_TYPES = ("Chat", "InternalSearchQuery", "Disengaged", "InternalLoaderMessage")


class ChatHubBroken(TransientError):
    """The socket closed (or the server sent type 7) before the turn's final item."""


class SessionExpired(UpstreamError):
    """``InvalidSession``: the conversation expired (after ~6 hours); start a new one."""


def encode_record(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False) + RS


class RecordSplitter:
    """Websocket frames (text or bytes) → JSON records. ``\\x1e`` is ASCII, never inside a
    multi-byte UTF-8 sequence, so splitting bytes on it is safe; bytes are decoded
    incrementally so a character split across frames is kept whole."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self._text = ""

    def feed(self, frame: str | bytes) -> list[Any]:
        if isinstance(frame, bytes):
            try:
                frame = self._decoder.decode(frame)
            except UnicodeDecodeError:
                raise ChatHubBroken("ChatHub sent a frame that is not UTF-8") from None
        self._text += frame
        if RS not in frame:
            return []
        *complete, self._text = self._text.split(RS)
        records = []
        for raw in complete:
            if not raw.strip():
                continue
            try:
                records.append(json.loads(raw))
            except ValueError:
                raise ChatHubBroken("ChatHub sent a malformed record") from None
        return records

    @property
    def pending(self) -> bool:
        return bool(self._text.strip())


def invocation_request(
    prompt: str,
    *,
    conversation_id: str,
    client_id: str,
    signature: str | None,
    invocation_id: int,
    tone: str = "Balanced",
    locale: str = "en-US",
    options_sets: tuple[str, ...] = DEFAULT_OPTIONS_SETS,
) -> dict[str, Any]:
    """The type-4 record for one turn; ``isStartOfSession`` only on the first."""
    argument: dict[str, Any] = {
        "source": "cib",
        "optionsSets": list(options_sets),
        "allowedMessageTypes": list(DEFAULT_MESSAGE_TYPES),
        "sliceIds": [],
        "isStartOfSession": invocation_id == 0,
        "message": {
            "author": "user",
            "inputMethod": "Keyboard",
            "text": prompt,
            "messageType": "Chat",
            "timestamp": utc_now_iso(),
            "locale": locale,
            "market": locale,
            "region": locale.rsplit("-", 1)[-1],
        },
        "tone": tone,
        "participant": {"id": client_id},
        "conversationId": conversation_id,
    }
    if signature:
        argument["conversationSignature"] = signature
    return {
        "arguments": [argument],
        "invocationId": str(invocation_id),
        "target": "chat",
        "type": 4,
    }


def result_error(result: Any, place: str = "ChatHub") -> UpstreamError | None:
    """What a non-``Success`` ``result.value`` means, or None for success."""
    if not isinstance(result, Mapping):
        return None
    value = result.get("value")
    if not isinstance(value, str) or value.lower() == "success":
        return None
    detail = result.get("message")
    text = f"{place} answered {value}" + (f": {str(detail)[:200]}" if detail else "")
    lowered = value.lower()
    if lowered in ("throttled", "captchachallenge"):
        return QuotaExhausted(text + "; what was done is kept, run again later")
    if lowered in ("unauthorizedrequest", "forbidden"):
        return AuthError(f"the Bing cookie was refused ({text})")
    if lowered == "invalidsession":
        return SessionExpired(text)
    if lowered == "invalidrequest":
        return BadRequestError(text)
    if lowered in ("processingmessage", "servicefailure", "internalerror"):
        return TransientError(text)
    return UpstreamError(text)


def _is_chat_reply(message: Any) -> bool:
    return (
        isinstance(message, dict)
        and message.get("author") == "bot"
        and message.get("messageType") in (None, "Chat")
    )


@dataclass
class TurnOutcome:
    conversation_id: str | None
    text: str
    message_id: str | None
    item: dict[str, Any]
    throttling: dict[str, Any] | None = None
    updates: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)


class ChatHubTurn:
    """One invocation as a state machine: records in → records to send out. ``on_text``
    hears the reply's text so far from each type 1 update that changed it."""

    def __init__(
        self, request: dict[str, Any], on_text: Callable[[str], None] | None = None
    ) -> None:
        self.request = request
        self.on_text = on_text
        self.invocation_id = str(request.get("invocationId", "0"))
        self.handshaken = False
        self.finished = False  # type 3 seen, or type 2 with its item
        self.partial_text = ""
        self.throttling: dict[str, Any] | None = None
        self.item: dict[str, Any] | None = None
        self.updates = 0

    def start(self) -> list[str]:
        return [HANDSHAKE]

    def receive(self, record: Any) -> list[str]:
        if not isinstance(record, dict):
            return []
        if not self.handshaken:
            if record.get("error"):
                raise ChatHubBroken(f"ChatHub refused the handshake: {str(record['error'])[:200]}")
            if "type" not in record:  # the handshake answer is "{}"
                self.handshaken = True
                return [PING, encode_record(self.request)]
        kind = record.get("type")
        if kind == 6:
            return [PING]
        if kind == 1:
            self._update(record)
        elif kind == 2:
            self._final(record)
        elif kind == 3:
            if record.get("error"):
                raise ChatHubBroken(f"ChatHub ended the turn with: {str(record['error'])[:200]}")
            self.finished = True
        elif kind == 7:
            raise ChatHubBroken(
                f"ChatHub closed with an error: {str(record.get('error') or '')[:200]}"
            )
        return []

    def _update(self, record: dict[str, Any]) -> None:
        self.updates += 1
        for argument in record.get("arguments") or []:
            if not isinstance(argument, dict):
                continue
            if isinstance(argument.get("throttling"), dict):
                self.throttling = argument["throttling"]
            for message in argument.get("messages") or []:
                if _is_chat_reply(message) and isinstance(message.get("text"), str):
                    changed = message["text"] != self.partial_text
                    self.partial_text = message["text"]  # cumulative, not a delta
                    if changed and self.on_text is not None:
                        self.on_text(self.partial_text)

    def _final(self, record: dict[str, Any]) -> None:
        item = record.get("item")
        if not isinstance(item, dict):
            raise ChatHubBroken("ChatHub sent a final record without its item")
        if isinstance(item.get("throttling"), dict):
            self.throttling = item["throttling"]
        error = result_error(item.get("result"))
        if error is not None:
            raise error
        self.item = item
        self.finished = True

    def result(self) -> TurnOutcome:
        if self.item is None:
            raise ChatHubBroken("the ChatHub socket closed before the final answer")
        messages = [m for m in self.item.get("messages") or [] if isinstance(m, dict)]
        replies = [m for m in messages if _is_chat_reply(m)]
        reply = replies[-1] if replies else None
        text = reply.get("text") if reply is not None else None
        if not isinstance(text, str):
            text = self.partial_text
        conversation_id = self.item.get("conversationId")
        return TurnOutcome(
            conversation_id=conversation_id if isinstance(conversation_id, str) else None,
            text=text,
            message_id=reply.get("messageId") if reply is not None else None,
            item=self.item,
            throttling=self.throttling,
            updates=self.updates,
            messages=messages,
        )


def chathub_url(sydney_base_url: str, encrypted_signature: str | None = None) -> str:
    """``wss://.../sydney/ChatHub``, with ``sec_access_token`` when the create call gave an
    encrypted signature. http(s) bases become ws(s)."""
    parts = urlsplit(f"{sydney_base_url.rstrip('/')}/{CHATHUB_PATH}")
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    query = f"sec_access_token={quote(encrypted_signature, safe='')}" if encrypted_signature else ""
    return urlunsplit((scheme, parts.netloc, parts.path, query, ""))


async def run_turn(
    transport: Transport,
    url: str,
    request: dict[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    keepalive_seconds: float = KEEPALIVE_SECONDS,
    timeout_seconds: float = 300.0,
    on_text: Callable[[str], None] | None = None,
) -> TurnOutcome:
    """One turn over a fresh socket: returns the final answer or raises (ChatHubBroken and
    other TransientErrors are worth retrying; QuotaExhausted/AuthError stop the run)."""
    turn = ChatHubTurn(request, on_text)
    splitter = RecordSplitter()

    def refused(exc: SocketRefused) -> None:
        raise_for_status(exc.status, exc.headers, b"", method="GET", url=url)

    with socket_failures(
        f"websocket {urlsplit(url).path}",
        ChatHubBroken,
        timeout_seconds=timeout_seconds,
        refused=refused,
        waited_for="final answer",
    ):
        async with connected(transport, url, headers) as ws:

            async def keepalive() -> None:
                # A heartbeat on the loop's own clock, not a wait: a fake clock must not
                # spin through pings while the turn waits for the server.
                while True:
                    await asyncio.sleep(keepalive_seconds)
                    await ws.send_text(PING)

            pinger = asyncio.create_task(keepalive())
            try:
                async with asyncio.timeout(timeout_seconds):
                    for record in turn.start():
                        await ws.send_text(record)
                    async for frame in messages(ws):
                        for record in splitter.feed(frame):
                            for reply in turn.receive(record):
                                await ws.send_text(reply)
                        if turn.finished:
                            break
            finally:
                pinger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pinger
    return turn.result()


__all__ = [
    "HANDSHAKE",
    "PING",
    "RS",
    "ChatHubBroken",
    "ChatHubTurn",
    "RecordSplitter",
    "SessionExpired",
    "TurnOutcome",
    "chathub_url",
    "encode_record",
    "invocation_request",
    "result_error",
    "run_turn",
]
