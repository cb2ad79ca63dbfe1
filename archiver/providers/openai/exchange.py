"""What the plain sender and the Batch API share: the archive copy of an exchange, and the
key's pacer."""

from __future__ import annotations

from typing import Any

from archiver.batch.archive import BATCH_SOURCE
from archiver.batch.sender import Answer, FlatHistorySender, SenderSetup
from archiver.flatten.records import FlatConversation
from archiver.providers.openai.client import OpenAISettings
from archiver.providers.openai.flatten import flatten_exchange
from archiver.providers.openai.options import PROVIDER
from archiver.providers.openai.pacing import ApiPacer


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
