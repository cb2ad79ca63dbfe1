"""The two chat accounts a batch can push prompts through, behind one small interface.

A provider sends one turn (with the shared limiter and retry policy: one call, retried as a
whole when the stream breaks) and builds the archived copy of the conversation from what the
turn returned (pure). It never touches SQLite; the runner does.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from archiver.batch.archive import (
    BATCH_SOURCE,
    chatgpt_conversation,
    merge_bing_messages,
    user_message,
)
from archiver.errors import ArchiverError, ConfigError
from archiver.flatten.bing import flatten_bing_conversation
from archiver.flatten.chatgpt import flatten_conversation
from archiver.flatten.records import FlatConversation
from archiver.sources.bing import BingClient, BingSettings, CreatedConversation, new_bing_http
from archiver.sources.chatgpt import ChatGPTSettings
from archiver.sources.chatgpt_stream import (
    ROOT_PARENT,
    AnswerStreamReader,
    StreamedAnswer,
    build_request,
    new_id,
)
from archiver.sources.chathub import (
    SessionExpired,
    TurnOutcome,
    chathub_url,
    invocation_request,
    run_turn,
)
from archiver.sources.http import (
    HttpClient,
    RequestStats,
    RetryPolicy,
    call_with_retries,
    new_session,
)
from archiver.sources.ratelimit import RateLimiter

MAX_CONTINUES = 5  # --autocontinue: at most this many "continue" requests per answer


@dataclass
class Thread:
    """What a conversation carries from one turn to the next. ``session`` is provider-private
    and in memory only (Bing signatures are credentials: never stored)."""

    conversation_id: str | None = None
    parent_message_id: str | None = None
    turns_done: int = 0
    session: Any = None


@dataclass
class Answer:
    text: str
    conversation_id: str | None
    message_id: str | None
    throttling: dict[str, Any] | None = None
    # What the archive copy is built from (provider-specific): stream messages or Bing item.
    parent_id: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    title: str | None = None
    model: str | None = None
    item: dict[str, Any] | None = None


@dataclass
class CallStats:
    """Requests made for one row (its ``attempts``) and how many were throttled."""

    requests: int = 0
    throttled: int = 0

    def add(self, stats: RequestStats) -> None:
        self.requests += stats.requests
        self.throttled += stats.throttled


@dataclass(frozen=True)
class ProviderOptions:
    conversation_path: str = "conversation"
    history_disabled: bool = False
    autocontinue: bool = False
    first_parent: str = ROOT_PARENT  # or "uuid": a new uuid as the first turn's parent
    tone: str = "Balanced"  # Bing: the default conversation style when a row names no model
    timeout_seconds: float = 300.0


class BatchProvider(Protocol):
    name: str
    account: str
    limiter: RateLimiter

    async def send(self, thread: Thread, prompt: str, model: str, stats: CallStats) -> Answer:
        """Send one turn, retried as a whole; update ``thread`` for the next turn."""

    def archive_copy(
        self, thread: Thread, answer: Answer, existing: Sequence[dict[str, Any]], header: Any
    ) -> FlatConversation:
        """The whole conversation so far as rows (pure)."""

    async def cleanup(self, thread: Thread) -> None:
        """Hide or delete the conversation upstream."""


class ChatGPTProvider:
    name = "chatgpt"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        limiter: RateLimiter,
        policy: RetryPolicy,
        settings: ChatGPTSettings,
        options: ProviderOptions,
    ):
        self.session = session
        self.limiter = limiter
        self.policy = policy
        self.settings = settings
        self.options = options
        self.account = settings.account

    def _http(self) -> HttpClient:
        # One HttpClient per call (same session, THE account's limiter and policy) so that its
        # stats count exactly this row's requests.
        return HttpClient(self.session, self.limiter, self.policy)

    async def _stream(self, body: dict[str, Any], stats: CallStats) -> StreamedAnswer:
        async def consume(chunks: AsyncIterator[bytes]) -> StreamedAnswer:
            reader = AnswerStreamReader()
            async for chunk in chunks:
                reader.feed(chunk)
            return reader.close()

        http = self._http()
        headers = {**self.settings.headers(), "Accept": "text/event-stream"}
        try:
            return await http.request_stream(
                "POST",
                self.settings.url(self.options.conversation_path),
                consume,
                headers=headers,
                json=body,
            )
        finally:
            stats.add(http.stats)

    async def send(self, thread: Thread, prompt: str, model: str, stats: CallStats) -> Answer:
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
        streamed = await self._stream(body, stats)
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
            streamed = await self._stream(body, stats)
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
        conv = chatgpt_conversation(
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


@dataclass
class _BingSession:
    created: CreatedConversation


class BingProvider:
    name = "bing"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        limiter: RateLimiter,
        policy: RetryPolicy,
        settings: BingSettings,
        options: ProviderOptions,
    ):
        self.session = session
        self.limiter = limiter
        self.policy = policy
        self.settings = settings
        self.options = options
        self.account = settings.account

    def _client(self) -> BingClient:
        return BingClient(new_bing_http(self.session, self.limiter, self.policy), self.settings)

    async def _open(self, thread: Thread, stats: CallStats) -> CreatedConversation:
        """Signatures for the thread's conversation: a new one, or re-issued after a restart."""
        if isinstance(thread.session, _BingSession):
            return thread.session.created
        client = self._client()
        try:
            created = await client.create_conversation(thread.conversation_id)
        finally:
            stats.add(client.http.stats)
        if thread.conversation_id is None:
            thread.conversation_id = created.conversation_id
            thread.turns_done = 0
        thread.session = _BingSession(created)
        return created

    async def _turn(self, thread: Thread, prompt: str, tone: str, stats: CallStats) -> TurnOutcome:
        created = await self._open(thread, stats)
        request = invocation_request(
            prompt,
            conversation_id=created.conversation_id,
            client_id=created.client_id,
            signature=created.signature,
            invocation_id=thread.turns_done,
            tone=tone,
        )
        url = chathub_url(self.settings.sydney_base_url, created.encrypted_signature)
        headers = {"Cookie": self.settings.headers()["Cookie"]}
        call_stats = RequestStats()

        async def once() -> TurnOutcome:
            call_stats.requests += 1
            return await run_turn(
                self.session,
                url,
                request,
                headers=headers,
                timeout_seconds=self.options.timeout_seconds,
            )

        try:
            return await call_with_retries(
                once, limiter=self.limiter, policy=self.policy, stats=call_stats
            )
        finally:
            stats.add(call_stats)

    async def send(self, thread: Thread, prompt: str, model: str, stats: CallStats) -> Answer:
        tone = model or self.options.tone
        try:
            outcome = await self._turn(thread, prompt, tone, stats)
        except SessionExpired:
            # The conversation expired upstream (~6 h): go on in a new one.
            thread.conversation_id, thread.session, thread.turns_done = None, None, 0
            outcome = await self._turn(thread, prompt, tone, stats)
        thread.turns_done += 1
        conversation_id = outcome.conversation_id or thread.conversation_id
        thread.conversation_id = conversation_id
        return Answer(
            text=outcome.text,
            conversation_id=conversation_id,
            message_id=outcome.message_id,
            throttling=outcome.throttling,
            messages=outcome.messages,
            item=outcome.item,
            model=tone,
        )

    def archive_copy(
        self, thread: Thread, answer: Answer, existing: Sequence[dict[str, Any]], header: Any
    ) -> FlatConversation:
        previous = [n["message"] for n in existing if isinstance(n.get("message"), dict)]
        item = {k: v for k, v in (answer.item or {}).items() if k != "messages"}
        item["conversationId"] = answer.conversation_id
        item["messages"] = merge_bing_messages(previous, answer.messages)
        item.pop("firstNewMessageIndex", None)  # relative to one turn, meaningless merged
        chat = {"conversationId": answer.conversation_id}
        if isinstance(header, dict) and header.get("title"):
            chat["chatName"] = header["title"]
        return flatten_bing_conversation(chat, item, account=self.account, source=BATCH_SOURCE)

    async def cleanup(self, thread: Thread) -> None:
        if thread.conversation_id is None or not isinstance(thread.session, _BingSession):
            return
        created = thread.session.created
        signature = created.signature or created.encrypted_signature or ""
        await self._client().delete_conversation(
            thread.conversation_id, signature, created.client_id
        )


@asynccontextmanager
async def open_provider(
    provider: str,
    settings: Any,
    *,
    limiter: RateLimiter,
    policy: RetryPolicy,
    options: ProviderOptions,
) -> AsyncIterator[BatchProvider]:
    async with new_session(timeout_seconds=options.timeout_seconds) as session:
        if provider == "chatgpt":
            if not isinstance(settings, ChatGPTSettings):
                raise ConfigError("--provider chatgpt needs ChatGPT settings")
            yield ChatGPTProvider(session, limiter, policy, settings, options)
        elif provider == "bing":
            if not isinstance(settings, BingSettings):
                raise ConfigError("--provider bing needs Bing settings")
            yield BingProvider(session, limiter, policy, settings, options)
        else:
            raise ConfigError(f"unknown provider {provider!r} (chatgpt or bing)")


def elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
