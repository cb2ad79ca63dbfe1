"""ChatGPT as a batch sender (the interface of ``archiver.batch.sender.BatchProvider``), as a
2026 account sends (docs/protocol/chatgpt.md, "Sending a prompt").

One attempt at a turn is: fresh sentinel tokens (a single-use requirements token and a proof
of work, ``sentinel.py``), then ``POST f/conversation`` with them and ``oai-device-id``,
streaming the answer (``stream.py``). ``POST conversation`` is used instead only when
``f/conversation`` does not exist (404 on the route). Then:

- **No double sends.** A try that failed after the request went out (a cut stream, a timeout,
  a 5xx) may have reached ChatGPT. The next try first looks the conversation up and adopts the
  answer when the prompt (our message id) is there; it sends again only when it is not.
- **Refusals.** 403 "Unusual activity": one more try with fresh tokens (and the other proof
  form), then the run stops (exit 3). A model cap (429 ``model_cap_exceeded``) is waited out
  within ``--max-wait`` or stops the run (transport/http.py). "Only one message at a time": this
  account sends one at a time from then on.

Each HTTP request takes its own token from the account's limiter: a send costs two (sentinel and
send), three with the two-step sentinel. The sender never touches SQLite; the runner does.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils

from archiver.batch.archive import BATCH_SOURCE
from archiver.batch.sender import (
    MAX_CONTINUES,
    Answer,
    CallStats,
    OnText,
    SenderBase,
    SenderSetup,
    TextProgress,
    Thread,
)
from archiver.errors import (
    ArchiverError,
    NotFoundError,
    RateLimitExceeded,
    TransientError,
    UnreachableError,
)
from archiver.flatten.records import FlatConversation
from archiver.providers.chatgpt.adopt import AnswerPending, adopted_answer, recent_candidates
from archiver.providers.chatgpt.browser import with_device_id
from archiver.providers.chatgpt.client import ChatGPTSettings, list_params
from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.providers.chatgpt.options import ROOT_PARENT
from archiver.providers.chatgpt.pow import FNV, SHA3
from archiver.providers.chatgpt.refusals import OneMessageAtATime, UnusualActivity, raise_for_send
from archiver.providers.chatgpt.sentinel import Sentinel
from archiver.providers.chatgpt.signed import ChatGPTHttp
from archiver.providers.chatgpt.stream import (
    AnswerStreamReader,
    StreamedAnswer,
    build_request,
    new_id,
)
from archiver.providers.chatgpt.turn_archive import turn_conversation, user_message
from archiver.transport.http import call_with_retries

log = logging.getLogger("archiver.chatgpt.send")

F_PATH = "f/conversation"
LEGACY_PATH = "conversation"
UNUSUAL_STOP = (
    "; refused again with fresh sentinel tokens: the run stops here (the rows not sent stay "
    "pending). Use the account in a browser for a while, or copy a fresh session cookie, and "
    "run the same command again later"
)


@dataclass
class _Attempts:
    """What the tries of one turn have learnt: whether one may have reached ChatGPT, and the
    conversation it went to (known from the stream's first frames, or from the thread)."""

    conversation_id: str | None
    started: float  # time.time() when the first try went out
    maybe_delivered: bool = False
    on_text: TextProgress | None = None  # hears each try's stream (an adopted answer: not)


def _route_missing(exc: NotFoundError) -> bool:
    """A 404 of the route itself, not "Can't load conversation" for a missing conversation."""
    return "conversation" not in (exc.detail or "").lower()


class ChatGPTProvider(SenderBase[ChatGPTSettings]):
    name = "chatgpt"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.settings.device_id is None:
            # Sends carry oai-device-id; without one kept in account_state, one for this run.
            self.settings = replace(self.settings, device_id=str(uuid.uuid4()))
        self.form = self.options.proof_form
        self.sentinel = Sentinel(self.settings, form=self.form)
        self.path = self.options.conversation_path
        self.serial = False  # set after "Only one message at a time"
        self._one_at_a_time = asyncio.Lock()
        self._sends = asyncio.Condition()  # guards _in_flight
        self._in_flight = 0

    def _http(self) -> ChatGPTHttp:
        # One HttpClient per turn (same transport, THE account's limiter and policy) so that its
        # stats count exactly this row's requests; ChatGPTHttp adds the sign-in and refresh.
        return ChatGPTHttp(self.transport, self.limiter, self.policy, settings=self.settings)

    # -- one turn, tried as a whole ---------------------------------------------------------

    async def _turn(
        self,
        body: dict[str, Any],
        stats: CallStats,
        *,
        user_id: str | None,
        conversation_id: str | None,
        on_text: TextProgress | None = None,
    ) -> StreamedAnswer:
        http = self._http()
        attempts = _Attempts(conversation_id=conversation_id, started=time.time(), on_text=on_text)

        async def once() -> StreamedAnswer:
            if attempts.maybe_delivered and user_id is not None:
                adopted = await self._adopt(http, attempts, user_id)
                if adopted is not None:
                    return adopted
                attempts.maybe_delivered = False  # it never arrived: sending again is safe
            return await self._send_with_tokens(http, body, attempts)

        try:
            return await call_with_retries(
                once, limiter=self.limiter, policy=self.policy, stats=http.stats, acquire=False
            )
        finally:
            stats.add(http.stats)

    async def _send_with_tokens(
        self, http: ChatGPTHttp, body: dict[str, Any], attempts: _Attempts
    ) -> StreamedAnswer:
        """Sentinel, then the send; again with fresh tokens after one Unusual activity, and
        on the legacy path when f/conversation does not exist."""
        refused = 0
        while True:
            form = self.form if not refused else (FNV if self.form == SHA3 else SHA3)
            path = self.path
            try:
                sentinel = await self.sentinel.headers(http, form=form)
                headers = {**self.settings.headers(), "Accept": "text/event-stream", **sentinel}
                # The send's token, taken when it goes out (after the sentinel and its proof
                # of work), not at the try's start: the limiter learns from when requests go.
                await self.limiter.acquire()
                answer = await self._post(http, path, headers, body, attempts)
            except UnusualActivity as exc:
                refused += 1
                if refused >= 2:
                    raise UnusualActivity(f"{exc}{UNUSUAL_STOP}", status=403, url=exc.url) from None
                log.warning("%s: trying once more with fresh sentinel tokens", exc)
                continue
            except NotFoundError as exc:
                sent_here = (exc.url or "").endswith("/" + F_PATH)  # not the sentinel's 404
                if path == F_PATH and sent_here and _route_missing(exc):
                    log.info("f/conversation does not exist here: sending to conversation")
                    self.path = LEGACY_PATH
                    continue
                raise
            if refused and form != self.form:
                log.info("the %s proof form was accepted: using it from now on", form)
                self.form = form
            return answer

    async def _post(
        self,
        http: ChatGPTHttp,
        path: str,
        headers: dict[str, str],
        body: dict[str, Any],
        attempts: _Attempts,
    ) -> StreamedAnswer:
        async def consume(chunks: AsyncIterator[bytes]) -> StreamedAnswer:
            reader = AnswerStreamReader(attempts.on_text)
            try:
                async for chunk in chunks:
                    reader.feed(chunk)
                return reader.close()
            finally:
                attempts.conversation_id = (
                    attempts.conversation_id or reader.assembler.conversation_id
                )

        async with self._send_slot():
            try:
                return await http.stream_once(
                    "POST",
                    self.settings.url(path),
                    consume,
                    headers=headers,
                    json=body,
                    check=raise_for_send,
                )
            except OneMessageAtATime:
                if not self.serial:
                    log.warning("ChatGPT takes one message at a time: sending one at a time")
                    self.serial = True
                raise
            except (RateLimitExceeded, UnreachableError):
                raise  # refused before it was taken, or never connected: not delivered
            except TransientError:
                attempts.maybe_delivered = True  # cut, timed out or 5xx after it went out
                raise

    @asynccontextmanager
    async def _send_slot(self) -> AsyncIterator[None]:
        """Room for one answer in flight. Once the account said "one message at a time", a send
        waits for every answer in flight to end (those that started before too), one by one."""
        serial = self._one_at_a_time if self.serial else nullcontext()
        async with serial:
            async with self._sends:
                if self.serial:
                    await self._sends.wait_for(lambda: self._in_flight == 0)
                self._in_flight += 1
            try:
                yield
            finally:
                async with self._sends:
                    self._in_flight -= 1
                    self._sends.notify_all()

    async def _adopt(
        self, http: ChatGPTHttp, attempts: _Attempts, user_id: str
    ) -> StreamedAnswer | None:
        """The answer ChatGPT already holds for our prompt (message ``user_id``), or None when
        the prompt never arrived. AnswerPending (retried) when it arrived but is unfinished."""
        candidates = [attempts.conversation_id] if attempts.conversation_id else []
        if not candidates:
            # The try failed before the stream named its conversation: a new chat, if it
            # exists, is among the most recently updated ones.
            listing = await http.request_json(
                "GET",
                self.settings.url("conversations"),
                headers=self.settings.headers(),
                params=list_params(0, archived=False, limit=10),
            )
            candidates = recent_candidates(listing, since=attempts.started)
        for candidate in candidates:
            try:
                detail = await http.request_json(
                    "GET",
                    self.settings.url(f"conversation/{candidate}"),
                    headers=self.settings.headers(),
                )
            except NotFoundError:
                continue
            adopted = adopted_answer(detail, candidate, user_id)
            if adopted is not None:
                log.info("the prompt had reached ChatGPT: adopted its answer, not sent again")
                return adopted
        return None

    # -- the batch interface ----------------------------------------------------------------

    async def send(
        self, thread: Thread, prompt: str, model: str, stats: CallStats, on_text: OnText = None
    ) -> Answer:
        if thread.parent_message_id is None:
            first = self.options.first_parent
            thread.parent_message_id = new_id() if first == "uuid" else first
        parent = thread.parent_message_id
        user_id = new_id()
        body = build_request(
            prompt,
            parent_message_id=parent,
            conversation_id=thread.conversation_id,
            message_id=user_id,
            model=model or None,
            history_disabled=self.options.history_disabled,
        )
        streamed = await self._turn(
            body, stats, user_id=user_id, conversation_id=thread.conversation_id, on_text=on_text
        )
        messages = list(streamed.messages)
        text = streamed.text
        if user_id not in {m.get("id") for m in messages}:
            messages.insert(0, user_message(user_id, prompt))
        conversation_id = streamed.conversation_id or thread.conversation_id
        title = streamed.title
        continues = 0
        while (
            self.options.autocontinue and streamed.cut_at_max_tokens and continues < MAX_CONTINUES
        ):
            continues += 1
            body = build_request(
                None,
                parent_message_id=streamed.message_id,
                conversation_id=conversation_id,
                model=model or None,
                history_disabled=self.options.history_disabled,
                action="continue",
            )
            previous_id, previous_text = streamed.message_id, text
            # A continue adds no prompt: a repeated one only continues further, so it is
            # retried without a look-up.
            streamed = await self._turn(
                body,
                stats,
                user_id=None,
                conversation_id=conversation_id,
                on_text=_after(previous_text, on_text),
            )
            if streamed.message_id == previous_id and streamed.text.startswith(previous_text):
                text = streamed.text  # the same message, continued in place
            else:
                text = previous_text + streamed.text
            messages.extend(m for m in streamed.messages if m not in messages)
            title = title or streamed.title
        if conversation_id is None:
            raise ArchiverError("the answer stream never said which conversation it belongs to")
        thread.conversation_id = conversation_id
        thread.parent_message_id = streamed.message_id
        thread.turns_done += 1
        return Answer(
            text=text,
            conversation_id=conversation_id,
            message_id=streamed.message_id,
            parent_id=parent,
            messages=messages,
            title=title,
            model=model or None,
        )

    def archive_copy(
        self, thread: Thread, answer: Answer, existing: Sequence[dict[str, Any]], header: Any
    ) -> FlatConversation:
        assert answer.conversation_id is not None and answer.parent_id is not None
        conv = turn_conversation(
            answer.conversation_id,
            existing_nodes=existing,
            parent_id=answer.parent_id,
            new_messages=answer.messages,
            title=answer.title,
            model=answer.model,
            header=header,
        )
        return flatten_conversation(conv, source=BATCH_SOURCE, account=self.account)

    async def cleanup(self, thread: Thread) -> None:
        if thread.conversation_id is None:
            return
        await self._http().request_json(
            "PATCH",
            self.settings.url(f"conversation/{thread.conversation_id}"),
            headers=self.settings.headers(),
            json={"is_visible": False},
        )


def _after(previous: str, on_text: TextProgress | None) -> TextProgress | None:
    """A continue's progress as the whole answer's: the same message continued in place
    streams ``previous`` and more, a new message only the more."""
    if on_text is None:
        return None
    return lambda text: on_text(text if text.startswith(previous) else previous + text)


@dataclass(frozen=True)
class SendOptions:
    """How ChatGPT's sender posts a prompt (its batch keys' values: options.SEND_OPTIONS)."""

    conversation_path: str = "f/conversation"  # "conversation" when that 404s
    proof_form: str = "sha3"  # the sentinel's proof-of-work hash, "sha3" or "fnv"
    history_disabled: bool = False
    autocontinue: bool = False
    first_parent: str = ROOT_PARENT  # or "uuid": a new uuid as the first turn's parent

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> SendOptions:
        defaults = cls()
        return cls(
            **{
                name: values[name] if values.get(name) is not None else getattr(defaults, name)
                for name in cls.__dataclass_fields__
            }
        )


def open_sender(
    setup: SenderSetup, settings: ChatGPTSettings, values: Mapping[str, Any]
) -> ChatGPTProvider:
    return ChatGPTProvider(setup, settings, SendOptions.from_values(values))


def with_state(db: sqlite_utils.Database, settings: ChatGPTSettings) -> ChatGPTSettings:
    """Sends carry the account's kept ``oai-device-id`` (made on first use)."""
    with_id: ChatGPTSettings = with_device_id(db, settings)
    return with_id


__all__ = ["AnswerPending", "ChatGPTProvider", "SendOptions", "open_sender"]
