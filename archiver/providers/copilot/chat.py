"""The Copilot chat websocket (docs/protocol/copilot.md): one turn as a sans-I/O state machine.

- ``EventSplitter``: frames (text or bytes) → JSON events. One event per frame is the norm,
  but several in a frame, or one split across frames (even inside a UTF-8 character), are
  handled too: events are cut at their closing brace by a small string-aware scanner.
- ``CopilotTurn``: events in → events to send out. Waits for ``connected`` (it may come twice:
  the prompt is sent once), sends ``setOptions``, ``reportLocalConsents`` and ``send``; answers
  ``ping`` with ``pong``; answers an empty ``challenge`` with an empty token and solves a
  ``hashcash`` one (bounded work), then re-sends the prompt unless the server already said
  ``received``; stops on a ``cloudflare`` challenge (a browser is needed: never defeated here)
  or an ``error`` event; the answer is complete at ``done``.
- ``run_turn``: the thin I/O driver over a transport's websocket. Its URL carries the token
  (``accessToken=``): it is never logged and never part of a message.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from archiver.errors import (
    AuthError,
    ChallengeError,
    QuotaExhausted,
    TransientError,
    UpstreamError,
)
from archiver.providers.copilot.client import (
    AUTH_REFUSED,
    CHAT_PATH,
    CLOUDFLARE_ADVICE,
    chat_socket_place,
)
from archiver.providers.copilot.flatten import TEXT_JOIN
from archiver.providers.copilot.options import MODES
from archiver.timeutil import utc_now_iso
from archiver.transport.base import SocketRefused, Transport, connected, messages
from archiver.transport.responses import raise_for_status
from archiver.transport.socket_turn import socket_failures

DEFAULT_MODE = MODES[0]
MAX_HASHCASH_BITS = 22  # ~4 M hashes expected (~10 s here): a browser's work, no more
MAX_PENDING_CHARS = 8 * 1024 * 1024  # one event larger than this is not a chat event
_AUTH_CODES = ("unauthorized", "unauthenticated", "tokenexpired", "invalidtoken", "forbidden")


class CopilotSocketBroken(TransientError):
    """The socket closed, or sent something unreadable, before ``done``: worth a retry."""


class CopilotStopped(QuotaExhausted):
    """An ``error`` event: the account cannot go on in this run (exit 3)."""


def encode_event(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False)


class EventSplitter:
    """Frames → JSON objects, cut at the brace that closes each top-level object."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self._buffer: list[str] = []
        self._size = 0
        self._depth = 0
        self._in_string = False
        self._escaped = False

    def feed(self, frame: str | bytes) -> list[Any]:
        if isinstance(frame, bytes):
            try:
                frame = self._decoder.decode(frame)
            except UnicodeDecodeError:
                raise CopilotSocketBroken(
                    "the Copilot socket sent a frame that is not UTF-8"
                ) from None
        events: list[Any] = []
        start = 0
        for i, char in enumerate(frame):
            if self._depth == 0:
                if char == "{":
                    self._depth, start = 1, i
                    self._buffer, self._size = [], 0
                elif not (char.isspace() or char == "\x1e"):
                    raise CopilotSocketBroken("the Copilot socket sent something that is not JSON")
                continue
            if self._in_string:
                if self._escaped:
                    self._escaped = False
                elif char == "\\":
                    self._escaped = True
                elif char == '"':
                    self._in_string = False
            elif char == '"':
                self._in_string = True
            elif char == "{":
                self._depth += 1
            elif char == "}":
                self._depth -= 1
                if self._depth == 0:
                    self._buffer.append(frame[start : i + 1])
                    events.append(self._decode("".join(self._buffer)))
                    self._buffer, self._size = [], 0
        if self._depth:
            piece = frame[start:]
            self._buffer.append(piece)
            self._size += len(piece)
            if self._size > MAX_PENDING_CHARS:
                raise CopilotSocketBroken("the Copilot socket sent an event too large to be one")
        return events

    @staticmethod
    def _decode(text: str) -> Any:
        try:
            return json.loads(text)
        except ValueError:
            raise CopilotSocketBroken("the Copilot socket sent a malformed event") from None

    @property
    def pending(self) -> bool:
        return self._depth > 0


# --- challenges -----------------------------------------------------------------------------


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def hashcash_terms(challenge: Mapping[str, Any]) -> tuple[str, int]:
    """(prefix, bits) from the variants seen: ``parameter`` a string with ``difficulty`` /
    ``bits`` beside it, a ``"bits:prefix"`` string, or an object holding both."""
    parameter = challenge.get("parameter")
    bits: Any = challenge.get("difficulty", challenge.get("bits"))
    prefix: Any = parameter
    if isinstance(parameter, Mapping):
        prefix = parameter.get("prefix", parameter.get("challenge", parameter.get("data")))
        bits = parameter.get("difficulty", parameter.get("bits", bits))
    elif isinstance(parameter, str) and bits is None and ":" in parameter:
        head, _, rest = parameter.partition(":")
        if head.isdigit():
            bits, prefix = int(head), rest
    if not isinstance(prefix, str):
        prefix = "" if prefix is None else str(prefix)
    try:
        bits = int(bits) if bits is not None else 0
    except (TypeError, ValueError):
        raise ChallengeError("Copilot sent a hashcash challenge this client cannot read") from None
    return prefix, bits


def solve_hashcash(prefix: str, bits: int, *, max_bits: int = MAX_HASHCASH_BITS) -> str:
    """The smallest nonce ``n`` whose ``sha256(prefix + str(n))`` starts with ``bits`` zero
    bits. Refuses work beyond ``max_bits`` (that is not what a browser is asked to do)."""
    if bits < 0 or bits > max_bits:
        raise ChallengeError(
            f"Copilot asked for a proof of work of {bits} bits (more than {max_bits}): "
            "open Copilot in a browser, then run again"
        )
    base = prefix.encode()
    # 16 times the expected work: missing a solution within it has odds of about e^-16.
    for nonce in range(1 << min(62, bits + 4)):
        if leading_zero_bits(hashlib.sha256(base + str(nonce).encode()).digest()) >= bits:
            return str(nonce)
    raise ChallengeError("no hashcash nonce found within the work bound")


# --- the turn -------------------------------------------------------------------------------


def set_options_event() -> dict[str, Any]:
    return {
        "event": "setOptions",
        "supportedFeatures": ["partial-generated-images"],
        "supportedCards": ["weather", "local", "image", "sports", "video", "ads", "finance"],
        "ads": {"supportedTypes": ["multimedia", "product", "tourActivity", "text"]},
    }


def consents_event() -> dict[str, Any]:
    return {"event": "reportLocalConsents", "grantedConsents": []}


def send_event(conversation_id: str, prompt: str, mode: str = DEFAULT_MODE) -> dict[str, Any]:
    return {
        "event": "send",
        "conversationId": conversation_id,
        "content": [{"type": "text", "text": prompt}],
        "mode": mode,
        "context": {},
    }


@dataclass
class CopilotAnswer:
    conversation_id: str
    text: str
    message_id: str | None
    user_message_id: str | None
    prompt: str
    mode: str
    parts: list[dict[str, Any]] = field(default_factory=list)  # text parts, in order
    citations: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    title: str | None = None
    followups: list[Any] = field(default_factory=list)
    challenges: int = 0
    created_at: str = field(default_factory=utc_now_iso)

    def messages(self) -> list[dict[str, Any]]:
        """The turn as two history-shaped messages (what ``/history`` would show)."""
        user = {
            "id": self.user_message_id or f"batch-user-{self.message_id or self.created_at}",
            "author": {"type": "human"},
            "createdAt": self.created_at,
            "content": [{"type": "text", "text": self.prompt}],
        }
        content = [dict(part, type="text") for part in self.parts]
        content += [dict(c, type="citation") for c in self.citations]
        content += [dict(i, type="image") for i in self.images]
        answer = {
            "id": self.message_id or f"batch-ai-{self.created_at}",
            "author": {"type": "ai"},
            "createdAt": self.created_at,
            "mode": self.mode,
            "streamingState": "final",
            "content": content,
        }
        return [user, answer]


class CopilotTurn:
    """One prompt as a state machine: ``receive(event)`` returns the events to send.
    ``on_text`` hears the answer's text so far (its parts joined) after each text event."""

    def __init__(
        self,
        conversation_id: str,
        prompt: str,
        mode: str = DEFAULT_MODE,
        *,
        max_hashcash_bits: int = MAX_HASHCASH_BITS,
        on_text: Callable[[str], None] | None = None,
    ):
        self.on_text = on_text
        self.conversation_id = conversation_id
        self.prompt = prompt
        self.mode = mode or DEFAULT_MODE
        self.max_hashcash_bits = max_hashcash_bits
        self.sent = False  # the prompt went out (after the first ``connected``)
        self.received = False  # the server acknowledged it
        self.finished = False
        self.message_id: str | None = None
        self.user_message_id: str | None = None
        self._parts: dict[str, str] = {}  # partId → text, in first-seen order
        self.citations: list[dict[str, Any]] = []
        self.images: list[dict[str, Any]] = []
        self.title: str | None = None
        self.followups: list[Any] = []
        self.challenges = 0

    def _send(self) -> dict[str, Any]:
        return send_event(self.conversation_id, self.prompt, self.mode)

    def receive(self, event: Any) -> list[dict[str, Any]]:
        if not isinstance(event, dict) or self.finished:
            return []
        kind = event.get("event")
        if kind == "connected":
            if self.sent:
                return []  # the second ``connected``: the prompt is already out
            self.sent = True
            return [set_options_event(), consents_event(), self._send()]
        if kind == "ping":
            return [{"event": "pong"}]
        if kind == "challenge":
            return self._challenge(event)
        if kind == "error":
            raise self._error(event)
        if kind == "received":
            self.received = True
            ident = event.get("messageId")
            if isinstance(ident, str) and ident:
                self.user_message_id = ident
        elif kind == "startMessage":
            self._message(event)
        elif kind in ("appendText", "replaceText"):
            self._text(event, replace=kind == "replaceText")
        elif kind == "citation":
            self.citations.append({k: v for k, v in event.items() if k != "event"})
        elif kind in ("imageGenerated", "generatedImage"):
            self.images.append({k: v for k, v in event.items() if k != "event"})
        elif kind == "titleUpdate":
            title = event.get("title")
            self.title = title if isinstance(title, str) else self.title
        elif kind == "suggestedFollowups":
            followups = event.get("suggestions", event.get("followups"))
            self.followups = followups if isinstance(followups, list) else []
        elif kind == "done":
            self._message(event)
            if self.sent:
                self.finished = True
        return []

    def _message(self, event: dict[str, Any]) -> None:
        ident = event.get("messageId")
        if isinstance(ident, str) and ident and self.message_id is None:
            self.message_id = ident

    def _text(self, event: dict[str, Any], *, replace: bool) -> None:
        text = event.get("text")
        if not isinstance(text, str):
            return
        self._message(event)
        part = event.get("partId")
        key = part if isinstance(part, str) and part else "0"
        self._parts[key] = text if replace else self._parts.get(key, "") + text
        if self.on_text is not None:
            self.on_text(self.text)

    def _challenge(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        method = str(event.get("method") or "").lower()
        ident = event.get("id")
        self.challenges += 1
        if method in ("", "none"):
            token = ""
        elif method == "hashcash":
            prefix, bits = hashcash_terms(event)
            token = solve_hashcash(prefix, bits, max_bits=self.max_hashcash_bits)
        elif method in ("cloudflare", "turnstile"):
            raise ChallengeError(
                CLOUDFLARE_ADVICE.replace(
                    "a Cloudflare check", "a Cloudflare challenge on the chat socket"
                )
            )
        else:
            raise ChallengeError(
                f"Copilot asked for a {method[:40]!r} challenge this client does not answer: "
                "open Copilot in a browser, then run again"
            )
        reply: dict[str, Any] = {"event": "challengeResponse", "token": token}
        if ident is not None:
            reply["id"] = ident
        out = [reply]
        if self.sent and not self.received:
            out.append(self._send())  # the prompt before the challenge was not taken
        return out

    def _error(self, event: dict[str, Any]) -> UpstreamError:
        code = str(event.get("errorCode") or event.get("code") or "unknown")[:80]
        detail = event.get("message") or event.get("description")
        text = f"Copilot ended the turn with error {code!r}" + (
            f": {str(detail)[:200]}" if detail else ""
        )
        if code.lower().replace("-", "").replace("_", "") in _AUTH_CODES:
            return AuthError(f"{AUTH_REFUSED} ({text})")
        return CopilotStopped(text + "; what was answered is kept, run again later")

    @property
    def text(self) -> str:
        return TEXT_JOIN.join(t for t in self._parts.values() if t)

    def result(self) -> CopilotAnswer:
        if not self.finished:
            raise CopilotSocketBroken(f"{chat_socket_place()}: closed before the answer was done")
        return CopilotAnswer(
            conversation_id=self.conversation_id,
            text=self.text,
            message_id=self.message_id,
            user_message_id=self.user_message_id,
            prompt=self.prompt,
            mode=self.mode,
            parts=[{"partId": k, "text": v} for k, v in self._parts.items()],
            citations=self.citations,
            images=self.images,
            title=self.title,
            followups=self.followups,
            challenges=self.challenges,
        )


def _refused(exc: SocketRefused) -> None:
    """A refused chat socket: 403 is Cloudflare's check, the rest as any HTTP status."""
    if exc.status == 403:
        raise ChallengeError(
            f"{CLOUDFLARE_ADVICE} ({chat_socket_place()} answered 403)", status=403
        ) from None
    raise_for_status(
        exc.status, {}, b"", method="GET", url=f"/{CHAT_PATH}", auth_message=AUTH_REFUSED
    )


async def run_turn(
    transport: Transport,
    url: str,
    turn: CopilotTurn,
    *,
    headers: Mapping[str, str] | None = None,
    timeout_seconds: float = 300.0,
) -> CopilotAnswer:
    """One turn over a fresh socket. ``url`` carries the token: errors name only the path."""
    splitter = EventSplitter()
    with socket_failures(
        chat_socket_place(),
        CopilotSocketBroken,
        timeout_seconds=timeout_seconds,
        refused=_refused,
    ):
        async with asyncio.timeout(timeout_seconds):
            async with connected(transport, url, headers) as ws:
                async for frame in messages(ws):
                    for event in splitter.feed(frame):
                        if isinstance(event, dict) and event.get("event") == "challenge":
                            # A proof of work takes seconds: off the loop, so pings go on.
                            replies = await asyncio.to_thread(turn.receive, event)
                        else:
                            replies = turn.receive(event)
                        for reply in replies:
                            await ws.send_text(encode_event(reply))
                    if turn.finished:
                        break
    return turn.result()


__all__ = [
    "DEFAULT_MODE",
    "MODES",
    "CopilotAnswer",
    "CopilotSocketBroken",
    "CopilotStopped",
    "CopilotTurn",
    "EventSplitter",
    "encode_event",
    "hashcash_terms",
    "leading_zero_bits",
    "run_turn",
    "send_event",
    "solve_hashcash",
]
