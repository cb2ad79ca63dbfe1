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
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from archiver.batch.sender import (
    Answer,
    CallStats,
    OnText,
    SenderSetup,
    Thread,
)
from archiver.errors import BadRequestError, ConfigError, TransientError
from archiver.providers.openai.chat import (
    ChatOptions,
    answer_for,
    chat_options,
    messages_for,
    request_body,
    token_estimate,
)
from archiver.providers.openai.client import OpenAIClient, OpenAISettings
from archiver.providers.openai.exchange import ExchangeArchive, pacer_for
from archiver.providers.openai.pacing import ApiPacer
from archiver.providers.openai.parse import parse_completion

if TYPE_CHECKING:
    from archiver.batch.remote import RemoteBatches

log = logging.getLogger("archiver.openai")
_REFUSED_FIELD = (
    "unsupported",
    "not supported",
    "unrecognized",
    "unknown",
    "extra",
    "not permitted",
)


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


def open_sender(
    setup: SenderSetup, settings: OpenAISettings, values: Mapping[str, Any]
) -> OpenAISender:
    options = chat_options(values, settings.base_url)
    return OpenAISender(setup, settings, options, pacer_for(setup, values.get("max_tpm")))


def open_batches(
    setup: SenderSetup, settings: OpenAISettings, values: Mapping[str, Any]
) -> RemoteBatches:
    from archiver.providers.openai.batches import OpenAIBatches

    options = chat_options(values, settings.base_url)
    return OpenAIBatches(setup, settings, options, pacer_for(setup, None))
