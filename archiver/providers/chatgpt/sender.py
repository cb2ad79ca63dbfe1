"""The two chat accounts a batch can push prompts through, behind one small interface.

A provider sends one turn (with the shared limiter and retry policy: one call, retried as a
whole when the stream breaks) and builds the archived copy of the conversation from what the
turn returned (pure). It never touches SQLite; the runner does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from archiver.batch.archive import (
    BATCH_SOURCE,
    chatgpt_conversation,
    user_message,
)
from archiver.batch.sender import (
    MAX_CONTINUES,
    Answer,
    CallStats,
    SenderBase,
    Thread,
)
from archiver.errors import ArchiverError
from archiver.flatten.records import FlatConversation
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.providers.chatgpt.signed import ChatGPTHttp
from archiver.providers.chatgpt.stream import (
    AnswerStreamReader,
    StreamedAnswer,
    build_request,
    new_id,
)
from archiver.transport.http import HttpClient


class ChatGPTProvider(SenderBase[ChatGPTSettings]):
    name = "chatgpt"

    def _http(self) -> HttpClient:
        # One HttpClient per call (same session, THE account's limiter and policy) so that its
        # stats count exactly this row's requests; ChatGPTHttp adds the sign-in and refresh.
        return ChatGPTHttp(self.session, self.limiter, self.policy, settings=self.settings)

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
