"""The OpenAI-compatible API as a batch sender (``archiver batch --provider openai``): each
row is one ``POST /chat/completions`` carrying the thread's whole exchange so far.

One sender per run, shared by every worker, so one ``ApiPacer`` paces every request on the
key. A 400 fails its row with the API's message and the run goes on; a 401 stops the run
(``AuthError``) with the rows not sent left pending; ``insufficient_quota`` is billing and
stops it too (``QuotaExhausted``). The runner records each answer as it comes, so nothing
answered is ever sent again. A 5xx or a dropped connection is retried: the API cannot say
whether the lost try was processed, so that try may have been billed, but only one answer
is ever recorded."""

from __future__ import annotations

import logging
from typing import Any

from archiver.batch.archive import BATCH_SOURCE
from archiver.batch.sender import (
    Answer,
    CallStats,
    FlatHistorySender,
    OnText,
    SenderSetup,
    Thread,
)
from archiver.errors import BadRequestError, ConfigError, TransientError
from archiver.flatten.records import FlatConversation
from archiver.providers.openai.chat import (
    ChatOptions,
    answer_for,
    messages_for,
    request_body,
    token_estimate,
)
from archiver.providers.openai.client import OpenAIClient, OpenAISettings
from archiver.providers.openai.flatten import flatten_exchange
from archiver.providers.openai.options import PROVIDER
from archiver.providers.openai.pacing import ApiPacer
from archiver.providers.openai.parse import parse_completion

log = logging.getLogger("archiver.openai")
_REFUSED_FIELD = (
    "unsupported",
    "not supported",
    "unrecognized",
    "unknown",
    "extra",
    "not permitted",
)


class ExchangeArchive(FlatHistorySender[OpenAISettings]):
    """The archive copy of an exchange, for the plain sender and the Batch API alike."""

    name = PROVIDER
    message_key = "id"

    def flat_copy(
        self, answer: Answer, messages: list[dict[str, Any]], header: Any
    ) -> FlatConversation:
        stored = header.get("raw") if isinstance(header, dict) else None
        conversation = dict(stored) if isinstance(stored, dict) else {}
        conversation.setdefault("title", answer.title)
        conversation.update(id=answer.conversation_id, model=answer.model)
        conversation.setdefault("base_url", self.account)
        return flatten_exchange(conversation, messages, account=self.account, source=BATCH_SOURCE)


def pacer_for(setup: SenderSetup, max_tpm: float | None) -> ApiPacer:
    """The key's pacer, capped by the run's ``--max-rpm`` (its limiter's) and ``--max-tpm``."""
    max_rate = setup.limiter.max_rate
    return ApiPacer(None if max_rate is None else max_rate * 60.0, max_tpm)


class OpenAISender(ExchangeArchive):
    def __init__(
        self,
        setup: SenderSetup,
        settings: OpenAISettings,
        options: ChatOptions,
        pacer: ApiPacer,
    ):
        super().__init__(setup, settings, options)
        self.options: ChatOptions = options
        self.pacer = pacer
        self.limiter = pacer  # THE key's pace: the gateway and the runner read it here
        self.client = OpenAIClient(setup.transport, settings, pacer, setup.policy)

    async def send(
        self, thread: Thread, prompt: str, model: str, stats: CallStats, on_text: OnText = None
    ) -> Answer:
        if not model:
            raise ConfigError("no model: pass --model, or fill the CSV's model column")
        messages = messages_for(thread, prompt)
        try:
            payload = await self._complete(model, messages, self.options, stats)
        except BadRequestError as exc:
            if not _names_refused_field(str(exc), self.options.length_field):
                raise
            # This server wants the other name for the answer's length: for the rest of the run.
            log.info(
                "%s refused %s: sending the other field", self.account, self.options.length_field
            )
            self.options = self.options.other_length_field()
            payload = await self._complete(model, messages, self.options, stats)
        try:
            completion = parse_completion(payload)
        except ValueError as exc:
            raise TransientError(f"POST /chat/completions: {exc}") from None
        if self.options.max_tokens is None and completion.completion_tokens:
            self.pacer.charge(completion.completion_tokens)
        return answer_for(thread, prompt, completion, self.options)

    async def _complete(
        self, model: str, messages: list[dict[str, str]], options: ChatOptions, stats: CallStats
    ) -> Any:
        return await self.client.json(
            "POST",
            "chat/completions",
            stats,
            body=request_body(model, messages, options),
            tokens=token_estimate(messages, options.max_tokens),
        )

    async def cleanup(self, thread: Thread) -> None:
        """Nothing to hide upstream: the API keeps no conversation."""


def _names_refused_field(message: str, field: str) -> bool:
    low = message.lower()
    return field in low and any(word in low for word in _REFUSED_FIELD)
