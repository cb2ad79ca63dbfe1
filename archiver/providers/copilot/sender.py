"""Copilot as a batch sender (the interface of ``archiver.batch.sender.BatchProvider``).

A thread's first turn creates a conversation (``POST /c/api/conversations``); later turns, and a
resumed thread, reuse it. Each turn is one call over a fresh chat socket, retried as a whole by
the shared policy when the socket breaks before ``done``. One socket per account: turns take a
lock, so however many threads are in flight, one socket is open at a time. The runner archives
every answer as it arrives and applies the resume/no-double-send rules.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from archiver.batch.archive import BATCH_SOURCE
from archiver.batch.sender import Answer, CallStats, FlatHistorySender, OnText, TextProgress, Thread
from archiver.flatten.records import FlatConversation
from archiver.loosejson import as_str
from archiver.providers.copilot.chat import DEFAULT_MODE, CopilotAnswer, CopilotTurn, run_turn
from archiver.providers.copilot.client import CopilotClient, CopilotSettings, new_copilot_http
from archiver.providers.copilot.flatten import flatten_copilot_conversation, message_text
from archiver.providers.copilot.options import PROVIDER


class CopilotProvider(FlatHistorySender[CopilotSettings]):
    name = PROVIDER
    message_key = "id"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._socket = asyncio.Lock()  # one chat socket per account

    def _client(self) -> CopilotClient:
        return CopilotClient(
            new_copilot_http(self.transport, self.limiter, self.policy), self.settings
        )

    async def _conversation(self, thread: Thread, stats: CallStats) -> str:
        if thread.conversation_id is not None:
            return thread.conversation_id
        client = self._client()
        try:
            thread.conversation_id = await client.create_conversation()
        finally:
            stats.add(client.http.stats)
        thread.turns_done = 0
        return thread.conversation_id

    def _socket_headers(self) -> dict[str, str]:
        headers = self.settings.browser_headers()
        del headers["Accept"]
        if self.settings.identity_type:
            headers["x-useridentitytype"] = self.settings.identity_type
        return headers

    async def _turn(
        self,
        conversation_id: str,
        prompt: str,
        mode: str,
        stats: CallStats,
        on_text: TextProgress | None,
    ) -> CopilotAnswer:
        session_id = str(uuid.uuid4())
        tries: list[CopilotTurn] = []

        async def once() -> CopilotAnswer:
            if tries and tries[-1].sent:
                # The last try may have reached Copilot: adopt its answer rather than ask twice.
                adopted = await self._adopt(conversation_id, prompt, mode)
                if adopted is not None:
                    return adopted
            turn = CopilotTurn(conversation_id, prompt, mode, on_text=on_text)  # fresh per try
            tries.append(turn)
            async with self._socket:
                return await run_turn(
                    self.transport,
                    self.settings.chat_socket_url(session_id),
                    turn,
                    headers=self._socket_headers(),
                    timeout_seconds=self.timeout_seconds,
                )

        return await self._retried(once, stats)

    async def _adopt(self, conversation_id: str, prompt: str, mode: str) -> CopilotAnswer | None:
        """The answer upstream already holds for ``prompt``: the newest human message with
        that text, followed by an AI message; None when the prompt never arrived."""
        history = await self._client().history(conversation_id)
        return adopted_answer(history, conversation_id, prompt, mode)

    async def send(
        self, thread: Thread, prompt: str, model: str, stats: CallStats, on_text: OnText = None
    ) -> Answer:
        mode = model or DEFAULT_MODE
        conversation_id = await self._conversation(thread, stats)
        outcome = await self._turn(conversation_id, prompt, mode, stats, on_text)
        thread.turns_done += 1
        thread.parent_message_id = outcome.message_id
        return Answer(
            text=outcome.text,
            conversation_id=conversation_id,
            message_id=outcome.message_id,
            messages=outcome.messages(),
            title=outcome.title,
            model=mode,
        )

    def flat_copy(
        self, answer: Answer, messages: list[dict[str, Any]], header: Any
    ) -> FlatConversation:
        stored = header.get("raw") if isinstance(header, dict) else None
        entry = dict(stored.get("conversation") or {}) if isinstance(stored, dict) else {}
        entry["id"] = answer.conversation_id
        title = answer.title or (header.get("title") if isinstance(header, dict) else None)
        if title:
            entry["title"] = title
        return flatten_copilot_conversation(
            entry,
            {"messages": messages},
            account=self.account,
            source=BATCH_SOURCE,
        )

    async def cleanup(self, thread: Thread) -> None:
        if thread.conversation_id is not None:
            await self._client().delete_conversation(thread.conversation_id)


def adopted_answer(
    history: Any, conversation_id: str, prompt: str, mode: str
) -> CopilotAnswer | None:
    """Pure: find ``prompt``'s answer in a history (``{"messages": [oldest first]}``)."""
    messages = history.get("messages") if isinstance(history, dict) else history
    if not isinstance(messages, list):
        return None
    for i in range(len(messages) - 1, -1, -1):
        asked = messages[i]
        if not isinstance(asked, dict) or _author(asked) == "ai":
            continue
        if (message_text(asked) or "").strip() != prompt.strip():
            return None  # the newest human message is another prompt: ours never arrived
        answer = next(
            (m for m in messages[i + 1 :] if isinstance(m, dict) and _author(m) == "ai"), None
        )
        if answer is None:
            return None
        return CopilotAnswer(
            conversation_id=conversation_id,
            text=message_text(answer) or "",
            message_id=as_str(answer.get("id")),
            user_message_id=as_str(asked.get("id")),
            prompt=prompt,
            mode=mode,
            parts=_parts_of(answer, "text"),
            citations=_parts_of(answer, "citation"),
            images=_parts_of(answer, "image"),
        )
    return None


def _parts_of(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    content = message.get("content")
    parts = content if isinstance(content, list) else []
    return [
        {k: v for k, v in p.items() if k != "type"}
        for p in parts
        if isinstance(p, dict) and str(p.get("type") or "").lower() == kind
    ]


def _author(message: dict[str, Any]) -> str:
    author = message.get("author")
    return str(author.get("type") if isinstance(author, dict) else author or "")


Sender = CopilotProvider  # what the contract opens (archiver/providers/modules.py)


__all__ = ["CopilotProvider", "Sender", "adopted_answer"]
