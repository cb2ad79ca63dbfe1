"""Claude as a batch sender (the interface of ``archiver.batch.sender.BatchProvider``) over
claude.ai's web completion endpoint (docs/protocol/claude.md, "Sending a prompt").

A thread's first turn creates a conversation (``POST .../chat_conversations`` with a uuid we
generate); each turn is ``POST .../completion`` with ``parent_message_uuid`` = the root
sentinel, then the previous answer's uuid, read as a stream (``stream.py``). We send the
uuids we want the turn's two messages to have (``turn_message_uuids``), so the turn can be
found again whatever the server did with the stream.

- **No double sends.** A try cut after the request went out (a dropped stream, a timeout, a
  5xx) may have reached claude.ai. The next try first reads the conversation and adopts the
  answer when the prompt is there; it sends again only when it is not. A conversation this
  sender did not start or send to in this run (a thread resumed after a stop or a kill, a
  conversation the gateway continues) is read the same way before its first prompt: a prompt
  that reached it unrecorded is adopted, not asked twice.
- **Usage limits.** ``exceeded_limit`` (a 429 or an event in the stream) stops the run (exit
  3) until its ``resetsAt``; the runner records the cool-down. ``message_limit`` warnings of an
  approaching limit are logged. A plain 429 pauses the account's limiter and is retried.

The sender never touches SQLite; the runner does."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from archiver.batch.archive import BATCH_SOURCE
from archiver.batch.sender import Answer, CallStats, OnText, SenderBase, Thread
from archiver.errors import ConfigError, RateLimitExceeded, TransientError, UnreachableError
from archiver.flatten.records import FlatConversation
from archiver.loosejson import as_dict
from archiver.providers.claude.client import ClaudeClient, ClaudeSettings, new_claude_http, org_path
from archiver.providers.claude.flatten import flatten_tree
from archiver.providers.claude.options import DEFAULT_VARIANT, PROVIDER, ROOT_PARENT
from archiver.providers.claude.parse import chat_organizations, raise_for_claude
from archiver.providers.claude.stream import CompletionReader, StreamedTurn, adopted_turn, log
from archiver.timeutil import utc_now_iso
from archiver.transport.http import call_with_retries, streamed
from archiver.transport.request import Request

TIMEZONE = "UTC"
LOCALE = "en-US"
_NO_MODEL = ("", "auto", DEFAULT_VARIANT)


@dataclass(frozen=True)
class _Session:
    """What a thread carries between turns (in memory): its organization, and whether the
    next turn must look in the conversation first (the last answer was adopted)."""

    org: str
    look_first: bool


@dataclass
class _Tries:
    """What the tries of one turn learnt: whether one may have reached claude.ai, and the
    uuids of the turn's messages (asked for, or named by the stream)."""

    human_uuid: str
    assistant_uuid: str
    maybe_delivered: bool = False


def completion_body(prompt: str, parent: str, tries: _Tries, model: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "prompt": prompt,
        "parent_message_uuid": parent,
        "timezone": TIMEZONE,
        "locale": LOCALE,
        "attachments": [],
        "files": [],
        "sync_sources": [],
        "rendering_mode": "messages",
        "turn_message_uuids": {
            "human_message_uuid": tries.human_uuid,
            "assistant_message_uuid": tries.assistant_uuid,
        },
    }
    if model:
        body["model"] = model
    return body


def turn_messages(
    turn: StreamedTurn, prompt: str, parent: str, model: str | None
) -> list[dict[str, Any]]:
    """The turn's two messages as the conversation would show them: upstream's own when the
    turn was adopted, else built from what was sent and streamed."""
    if turn.messages:
        return list(turn.messages)
    now = utc_now_iso()
    human = {
        "uuid": turn.human_uuid,
        "text": "",
        "content": [{"type": "text", "text": prompt}],
        "sender": "human",
        "created_at": now,
        "updated_at": now,
        "attachments": [],
        "files": [],
        "files_v2": [],
        "parent_message_uuid": parent,
    }
    answer = {
        "uuid": turn.assistant_uuid,
        "text": "",
        "content": turn.blocks,
        "sender": "assistant",
        "created_at": now,
        "updated_at": now,
        "stop_reason": turn.stop_reason,
        "attachments": [],
        "files": [],
        "files_v2": [],
        "parent_message_uuid": turn.human_uuid,
    }
    if model or turn.model:
        answer["model"] = turn.model or model
    return [human, answer]


class ClaudeProvider(SenderBase[ClaudeSettings]):
    name = PROVIDER

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._org: str | None = None

    def _client(self) -> ClaudeClient:
        # One HttpClient per call (the run's session, THE account's limiter and policy) so that
        # its stats count exactly this row's requests.
        return ClaudeClient(new_claude_http(self.session, self.limiter, self.policy), self.settings)

    async def _organization(self, client: ClaudeClient) -> str:
        """The organization chats are sent to: the first with the chat capability."""
        if self._org is None:
            chats = chat_organizations(await client.organizations())
            if not chats:
                raise ConfigError(
                    "no organization of this claude.ai account has the chat capability"
                )
            self._org = chats[0].uuid
        return self._org

    async def send(
        self, thread: Thread, prompt: str, model: str, stats: CallStats, on_text: OnText = None
    ) -> Answer:
        client = self._client()
        slug = None if model in _NO_MODEL else model
        # A conversation this sender has not sent to yet (a thread resumed after a stop or a
        # kill, a conversation the gateway continues), or whose last answer was adopted: an
        # earlier run's prompt may have reached it unrecorded, so it is read before sending.
        session = thread.session if isinstance(thread.session, _Session) else None
        try:
            org = session.org if session else await self._organization(client)
            if thread.conversation_id is None:
                thread.conversation_id = await client.create_conversation(
                    org, str(uuid.uuid4()), model=slug
                )
                thread.parent_message_id = None
                thread.turns_done = 0
                session = _Session(org, look_first=False)
        finally:
            stats.add(client.http.stats)
        look_first = session.look_first if session else True
        parent = thread.parent_message_id or ROOT_PARENT
        turn = await self._turn(
            org, thread.conversation_id, prompt, parent, slug, stats, on_text, look_first=look_first
        )
        thread.session = _Session(org, look_first=turn.adopted)
        thread.parent_message_id = turn.assistant_uuid
        thread.turns_done += 1
        return Answer(
            text=turn.text,
            conversation_id=thread.conversation_id,
            message_id=turn.assistant_uuid,
            parent_id=parent,
            messages=turn_messages(turn, prompt, parent, slug),
            model=turn.model or slug,
            throttling={"usage_warnings": turn.limits} if turn.limits else None,
        )

    async def _turn(
        self,
        org: str,
        conversation_id: str,
        prompt: str,
        parent: str,
        model: str | None,
        stats: CallStats,
        on_text: OnText,
        *,
        look_first: bool = False,
    ) -> StreamedTurn:
        client = self._client()
        tries = _Tries(str(uuid.uuid4()), str(uuid.uuid4()), maybe_delivered=look_first)
        body = completion_body(prompt, parent, tries, model)
        url = client.settings.url(
            org_path(org, "chat_conversations", conversation_id, "completion")
        )

        async def once() -> StreamedTurn:
            if tries.maybe_delivered:
                detail = await client.conversation(org, conversation_id)
                adopted = adopted_turn(
                    detail,
                    parent=parent,
                    prompt=prompt,
                    human_uuid=tries.human_uuid,
                    assistant_uuid=tries.assistant_uuid,
                )
                if adopted is not None:
                    log.info("the prompt had reached claude.ai: adopted its answer, not sent again")
                    return adopted
                tries.maybe_delivered = False  # it never arrived: sending again is safe
            return await self._stream(client, url, body, tries, on_text)

        try:
            return await call_with_retries(
                once, limiter=self.limiter, policy=self.policy, stats=client.http.stats
            )
        finally:
            stats.add(client.http.stats)

    async def _stream(
        self,
        client: ClaudeClient,
        url: str,
        body: dict[str, Any],
        tries: _Tries,
        on_text: OnText,
    ) -> StreamedTurn:
        headers = {**client.settings.headers(), "Accept": "text/event-stream"}
        request = Request("POST", url, headers=headers, json=body)

        async def consume(chunks: AsyncIterator[bytes]) -> StreamedTurn:
            reader = CompletionReader(on_text)
            try:
                async for chunk in chunks:
                    reader.feed(chunk)
                turn = reader.close()
            finally:
                # The stream names the turn's messages: those are the ones to look for.
                tries.human_uuid = reader.turn.human_uuid or tries.human_uuid
                tries.assistant_uuid = reader.turn.assistant_uuid or tries.assistant_uuid
            turn.human_uuid = turn.human_uuid or tries.human_uuid
            turn.assistant_uuid = turn.assistant_uuid or tries.assistant_uuid
            return turn

        try:
            # One attempt: the retries (and the look before a resend) are _turn's.
            return await client.http.exchange(request, streamed(request, consume, raise_for_claude))
        except (RateLimitExceeded, UnreachableError):
            raise  # refused before it was taken, or never connected: not delivered
        except TransientError:
            tries.maybe_delivered = True  # cut, timed out or 5xx after it went out
            raise

    def archive_copy(
        self, thread: Thread, answer: Answer, existing: Sequence[dict[str, Any]], header: Any
    ) -> FlatConversation:
        """The conversation so far: the archived messages and the turn's, newest copy of a
        message winning, its branch ending at the answer."""
        assert answer.conversation_id is not None
        messages: dict[str, dict[str, Any]] = {}
        for node in existing:
            message = node.get("message")
            if isinstance(message, dict):
                messages[str(node["id"])] = message
        for message in answer.messages:
            messages[str(message.get("uuid"))] = message
        stored = as_dict(as_dict(header).get("raw"))
        conversation = {
            **stored,
            "uuid": answer.conversation_id,
            "updated_at": utc_now_iso(),
            "current_leaf_message_uuid": answer.message_id,
            "chat_messages": list(messages.values()),
        }
        conversation.setdefault("created_at", as_dict(header).get("create_time") or utc_now_iso())
        if answer.model and not conversation.get("model"):
            conversation["model"] = answer.model
        return flatten_tree(conversation, source=BATCH_SOURCE, account=self.account)

    async def cleanup(self, thread: Thread) -> None:
        if thread.conversation_id is None:
            return
        client = self._client()
        session = thread.session if isinstance(thread.session, _Session) else None
        org = session.org if session else await self._organization(client)
        await client.delete_conversation(org, thread.conversation_id)


Sender = ClaudeProvider  # what the contract opens (archiver/providers/modules.py)


__all__ = ["ClaudeProvider", "Sender", "completion_body", "turn_messages"]
