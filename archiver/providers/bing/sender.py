"""Bing as a batch sender (the interface of ``archiver.batch.sender.BatchProvider``).

A thread's first turn creates a conversation (``turing/conversation/create``: its signatures
are credentials, kept in memory only); each turn is one ChatHub socket call, retried as a whole
when the socket breaks. A conversation that expired upstream is continued in a new one. The
archived copy is built from the turn's final item, merged with what is already archived.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archiver.batch.archive import BATCH_SOURCE
from archiver.batch.sender import Answer, CallStats, FlatHistorySender, OnText, TextProgress, Thread
from archiver.flatten.records import FlatConversation
from archiver.providers.bing.chathub import (
    SessionExpired,
    TurnOutcome,
    chathub_url,
    invocation_request,
    run_turn,
)
from archiver.providers.bing.client import (
    BingClient,
    BingSettings,
    CreatedConversation,
    new_bing_http,
)
from archiver.providers.bing.flatten import flatten_bing_conversation
from archiver.providers.bing.options import TONES


@dataclass
class _BingSession:
    created: CreatedConversation


class BingProvider(FlatHistorySender[BingSettings]):
    name = "bing"
    message_key = "messageId"  # a type-2 item may repeat earlier turns

    def _client(self) -> BingClient:
        return BingClient(new_bing_http(self.transport, self.limiter, self.policy), self.settings)

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

    async def _turn(
        self,
        thread: Thread,
        prompt: str,
        tone: str,
        stats: CallStats,
        on_text: TextProgress | None,
    ) -> TurnOutcome:
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

        async def once() -> TurnOutcome:
            return await run_turn(
                self.transport,
                url,
                request,
                headers=headers,
                timeout_seconds=self.timeout_seconds,
                on_text=on_text,
            )

        return await self._retried(once, stats)

    async def send(
        self, thread: Thread, prompt: str, model: str, stats: CallStats, on_text: OnText = None
    ) -> Answer:
        tone = model or TONES[0]
        try:
            outcome = await self._turn(thread, prompt, tone, stats, on_text)
        except SessionExpired:
            # The conversation expired upstream (~6 h): go on in a new one.
            thread.conversation_id, thread.session, thread.turns_done = None, None, 0
            outcome = await self._turn(thread, prompt, tone, stats, on_text)
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

    def flat_copy(
        self, answer: Answer, messages: list[dict[str, Any]], header: Any
    ) -> FlatConversation:
        item = {k: v for k, v in (answer.item or {}).items() if k != "messages"}
        item["conversationId"] = answer.conversation_id
        item["messages"] = messages
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


Sender = BingProvider  # what the contract opens (archiver/providers/modules.py)
