"""The two chat accounts a batch can push prompts through, behind one small interface.

A provider sends one turn (with the shared limiter and retry policy: one call, retried as a
whole when the stream breaks) and builds the archived copy of the conversation from what the
turn returned (pure). It never touches SQLite; the runner does.

``send`` takes an optional ``on_text`` (the gateway's streams pass one, a batch none): it is
called, as frames arrive, with the answer text of the current try so far (cumulative, not a
delta). A retried try reports again from its start; an answer adopted from a look-up is not
reported; the text may even change. Only the returned ``Answer.text`` is the answer.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from archiver.batch.archive import merge_flat_messages
from archiver.batch.store import AnswerFacts
from archiver.errors import UpstreamError
from archiver.flatten.records import FlatConversation, replace_lone_surrogates
from archiver.transport.base import Transport
from archiver.transport.connect import open_transport
from archiver.transport.http import HttpClient, RequestStats, RetryPolicy, call_with_retries
from archiver.transport.ratelimit import RateLimiter

SettingsT = TypeVar("SettingsT")
T = TypeVar("T")
MAX_CONTINUES = 5  # --autocontinue: at most this many "continue" requests per answer
TextProgress = Callable[[str], None]  # on_text: the answer text so far (see above)
OnText = TextProgress | None


@dataclass(frozen=True)
class Turn:
    """One answered turn of a thread: what was asked and what came back."""

    prompt: str
    answer: str


@dataclass
class Thread:
    """What a conversation carries from one turn to the next. ``session`` is provider-private
    and in memory only (Bing signatures are credentials: never stored).

    ``system`` is the thread's instruction (its first row's ``system`` cell) and ``history``
    its answered turns, oldest first: a stateless upstream (an API) is sent both with every
    turn, an account that keeps the conversation needs neither."""

    conversation_id: str | None = None
    parent_message_id: str | None = None
    turns_done: int = 0
    session: Any = None
    system: str | None = None
    history: list[Turn] = field(default_factory=list)


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
    model: str | None = None  # the model that answered, as the upstream names it
    item: dict[str, Any] | None = None
    # What an API says beside the text (None where the upstream does not say).
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None

    def __post_init__(self) -> None:
        # Half an emoji (a lone surrogate, as a server that cuts a string sends it) has no
        # UTF-8 form: the answer's text keeps U+FFFD in its place, for the batch's row, its
        # results file and the gateway's reply. ``messages`` keep what upstream sent.
        self.text = replace_lone_surrogates(self.text)

    def facts(self) -> AnswerFacts:
        return AnswerFacts(
            self.prompt_tokens, self.completion_tokens, self.model, self.finish_reason
        )


class FailedAnswer(UpstreamError):
    """An answer came back that cannot be recorded as one (empty because it was cut at its
    length, a refusal, not the JSON asked for): the row fails with this message, keeping what
    the answer said (its tokens were billed). Not retried: asking again gets the same."""

    def __init__(self, message: str, facts: AnswerFacts | None = None):
        super().__init__(message)
        self.facts = facts


@dataclass
class CallStats:
    """Requests made for one row (its ``attempts``) and how many were throttled."""

    requests: int = 0
    throttled: int = 0

    def add(self, stats: RequestStats) -> None:
        self.requests += stats.requests
        self.throttled += stats.throttled


@dataclass(frozen=True)
class SenderSetup:
    """What a run gives every sender it opens: its transport, THE account's limiter and retry
    policy (shared by every worker), and how long to wait for an answer."""

    transport: Transport
    limiter: RateLimiter
    policy: RetryPolicy
    timeout_seconds: float = 300.0

    @property
    def session(self) -> Transport:
        """The transport, by the name senders used before the seam existed."""
        return self.transport


class ArchiveCopier(Protocol):
    """What the archive copy of a turn is built by (``save_copy.py``): a sender, or a
    provider's batch endpoint (``remote.py``)."""

    def archive_copy(
        self, thread: Thread, answer: Answer, existing: Sequence[dict[str, Any]], header: Any
    ) -> FlatConversation:
        """The whole conversation so far as rows (pure)."""


class BatchProvider(ArchiveCopier, Protocol):
    name: str
    account: str
    limiter: RateLimiter

    async def send(
        self, thread: Thread, prompt: str, model: str, stats: CallStats, on_text: OnText = None
    ) -> Answer:
        """Send one turn, retried as a whole; update ``thread`` for the next turn. ``on_text``
        hears the answer text so far as it streams (module docstring)."""

    async def cleanup(self, thread: Thread) -> None:
        """Hide or delete the conversation upstream."""


class SenderBase(Generic[SettingsT]):
    """What every provider's sender holds: the run's transport, THE account's limiter and
    retry policy, the provider's settings and its own send options (a value of the
    provider's)."""

    name: str

    def __init__(self, setup: SenderSetup, settings: SettingsT, options: Any = None):
        self.setup = setup
        self.transport = setup.transport
        self.limiter = setup.limiter
        self.policy = setup.policy
        self.timeout_seconds = setup.timeout_seconds
        self.settings = settings
        self.options = options
        self.account: str = getattr(settings, "account", "")

    @property
    def session(self) -> Transport:
        """The transport, by the name senders used before the seam existed."""
        return self.transport

    async def _retried(self, once: Callable[[], Awaitable[T]], stats: CallStats) -> T:
        """``once`` (one socket turn) under the account's limiter and retry policy; each try
        counts as a request in ``stats``, even when the call fails."""
        call_stats = RequestStats()

        async def counted() -> T:
            call_stats.requests += 1
            return await once()

        try:
            return await call_with_retries(
                counted, limiter=self.limiter, policy=self.policy, stats=call_stats
            )
        finally:
            stats.add(call_stats)

    def _http(self) -> HttpClient:
        # One HttpClient per call (same transport, THE account's limiter and policy) so that
        # its stats count exactly this row's requests.
        return HttpClient(self.transport, self.limiter, self.policy)


class FlatHistorySender(SenderBase[SettingsT]):
    """A sender whose upstream keeps a flat message list (Bing, Copilot). The archived copy is
    the messages already archived, then the turn's messages not among them (told apart by
    ``message_key``; a repeated turn is not stored twice), as ``flat_copy`` flattens them."""

    message_key: str

    def archive_copy(
        self, thread: Thread, answer: Answer, existing: Sequence[dict[str, Any]], header: Any
    ) -> FlatConversation:
        archived = [n["message"] for n in existing if isinstance(n.get("message"), dict)]
        merged = merge_flat_messages(archived, answer.messages, key=self.message_key)
        return self.flat_copy(answer, merged, header)

    def flat_copy(
        self, answer: Answer, messages: list[dict[str, Any]], header: Any
    ) -> FlatConversation:
        raise NotImplementedError


class SenderFactory(Protocol):
    """How the batch runner and the gateway open a provider's sender (a provider's
    ``Sending`` capability is one): they never name the provider."""

    @property
    def takes_system(self) -> bool: ...

    def with_state(self, db: Any, settings: Any) -> Any: ...

    def open(
        self, setup: SenderSetup, settings: Any, values: Mapping[str, Any]
    ) -> BatchProvider: ...

    def open_batches(self, setup: SenderSetup, settings: Any, values: Mapping[str, Any]) -> Any:
        """The provider's batch endpoint (a ``remote.RemoteBatches``), or None."""


@asynccontextmanager
async def open_sender(
    sending: SenderFactory,
    settings: Any,
    values: Mapping[str, Any],
    *,
    limiter: RateLimiter,
    policy: RetryPolicy,
    timeout_seconds: float,
) -> AsyncIterator[BatchProvider]:
    """A sender on a transport of its own, closed when the block ends."""
    async with open_transport(timeout_seconds=timeout_seconds) as transport:
        setup = SenderSetup(transport, limiter, policy, timeout_seconds)
        yield sending.open(setup, settings, values)


def elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
