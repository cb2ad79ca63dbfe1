"""A row as a Chat Completions request, and a completion as a row's answer. Pure: the plain
sender and the Batch API build and read exactly the same bodies.

The API keeps no conversation: each turn of a thread is sent with the whole exchange so far
(the thread's system instruction, then every earlier prompt and answer, then the prompt)."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archiver.batch.sender import Answer, FailedAnswer, Thread
from archiver.batch.store import AnswerFacts
from archiver.errors import ConfigError
from archiver.providers.openai.parse import Completion
from archiver.providers.openai.schema import check_schema, validate

# The answer-length field: OpenAI's own models want the newer one (its reasoning models refuse
# the older), compatible servers know the older one.
NEW_LENGTH_FIELD = "max_completion_tokens"
OLD_LENGTH_FIELD = "max_tokens"
_NEW_FIELD_HOSTS = ("api.openai.com", ".openai.azure.com")
CHARS_PER_TOKEN = 4  # the usual estimate; only the server knows the real count
MESSAGE_OVERHEAD = 4  # tokens each message costs beyond its text (role, framing)


@dataclass(frozen=True)
class Structured:
    """``--json-schema``: the schema every answer must match, and its name on the wire."""

    name: str
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class ChatOptions:
    temperature: float | None = None
    max_tokens: int | None = None
    structured: Structured | None = None
    length_field: str = NEW_LENGTH_FIELD

    def other_length_field(self) -> ChatOptions:
        other = OLD_LENGTH_FIELD if self.length_field == NEW_LENGTH_FIELD else NEW_LENGTH_FIELD
        return replace(self, length_field=other)


def length_field_for(base_url: str) -> str:
    host = (urlsplit(base_url).hostname or "").lower()
    ours = any(host == h or (h.startswith(".") and host.endswith(h)) for h in _NEW_FIELD_HOSTS)
    return NEW_LENGTH_FIELD if ours else OLD_LENGTH_FIELD


def chat_options(values: Mapping[str, Any], base_url: str) -> ChatOptions:
    """The send options from the batch values (``temperature``, ``max_tokens``,
    ``json_schema``); a bad schema file is a ConfigError before anything is sent."""
    schema_path = values.get("json_schema")
    return ChatOptions(
        temperature=values.get("temperature"),
        max_tokens=values.get("max_tokens"),
        structured=load_structured(Path(schema_path)) if schema_path else None,
        length_field=length_field_for(base_url),
    )


def load_structured(path: Path) -> Structured:
    """A JSON Schema file, either the schema itself or OpenAI's ``{"name", "schema"}``."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"--json-schema: cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--json-schema: {path} is not JSON ({exc})") from None
    name = "".join(c if c.isalnum() or c in "_-" else "_" for c in path.stem)[:64] or "answer"
    if isinstance(loaded, dict) and isinstance(loaded.get("schema"), dict):
        name = str(loaded.get("name") or name)
        loaded = loaded["schema"]
    problem = check_schema(loaded)
    if problem:
        raise ConfigError(f"--json-schema: {path}: {problem}")
    return Structured(name, loaded)


def messages_for(thread: Thread, prompt: str) -> list[dict[str, str]]:
    """The exchange so far, then the prompt."""
    messages = [{"role": "system", "content": thread.system}] if thread.system else []
    for turn in thread.history:
        messages.append({"role": "user", "content": turn.prompt})
        messages.append({"role": "assistant", "content": turn.answer})
    messages.append({"role": "user", "content": prompt})
    return messages


def request_body(
    model: str, messages: list[dict[str, str]], options: ChatOptions
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": messages}
    if options.temperature is not None:
        body["temperature"] = options.temperature
    if options.max_tokens is not None:
        body[options.length_field] = options.max_tokens
    if options.structured is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                "name": options.structured.name,
                "schema": options.structured.schema,
                "strict": True,
            },
        }
    return body


def token_estimate(messages: list[dict[str, str]], max_tokens: int | None) -> int:
    """What a request is charged against a tokens-per-minute limit up front: its text at about
    four characters a token, plus the answer it may get (``max_tokens``)."""
    chars = sum(len(m["content"]) for m in messages)
    return math.ceil(chars / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD * len(messages) + (max_tokens or 0)


def answer_for(thread: Thread, prompt: str, completion: Completion, options: ChatOptions) -> Answer:
    """The row's answer from a completion, as the archive keeps it (the conversation's new
    messages, ids stable within it); FailedAnswer when it cannot be one."""
    facts = AnswerFacts(
        completion.prompt_tokens,
        completion.completion_tokens,
        completion.model,
        completion.finish_reason,
    )
    text = completion.content
    if not text:
        raise FailedAnswer(_why_empty(completion), facts)
    if options.structured is not None:
        _check_structured(text, options.structured, facts)
    conversation_id = thread.conversation_id or f"openai-{uuid.uuid4().hex}"
    turn = thread.turns_done + 1
    user_id, assistant_id = f"turn{turn}-user", f"turn{turn}-assistant"
    messages: list[dict[str, Any]] = []
    if thread.system and not thread.turns_done:
        messages.append({"id": "system", "role": "system", "content": thread.system})
    created = completion.created
    messages.append({"id": user_id, "role": "user", "content": prompt, "created": created})
    messages.append(
        {
            "id": assistant_id,
            "role": "assistant",
            "content": text,
            "json": options.structured is not None,
            "completion": dict(completion.raw),
        }
    )
    thread.conversation_id = conversation_id
    thread.parent_message_id = assistant_id
    thread.turns_done = turn
    return Answer(
        text=text,
        conversation_id=conversation_id,
        message_id=assistant_id,
        parent_id=user_id,
        messages=messages,
        title=prompt.strip().splitlines()[0][:80] if prompt.strip() else None,
        model=completion.model,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        finish_reason=completion.finish_reason,
    )


def _why_empty(completion: Completion) -> str:
    if completion.refusal:
        return f"the model refused: {completion.refusal[:500]}"
    if completion.finish_reason == "length":
        return (
            "empty answer, finish_reason length: the model spent every token it was allowed "
            "(reasoning included) before answering; raise --max-tokens"
        )
    reason = completion.finish_reason or "none given"
    return f"empty answer (finish_reason {reason})"


def _check_structured(text: str, structured: Structured, facts: AnswerFacts) -> None:
    try:
        value = json.loads(text)
    except ValueError:
        cut = " (cut at its length)" if facts.finish_reason == "length" else ""
        raise FailedAnswer(f"the answer is not JSON{cut}", facts) from None
    problems = validate(value, structured.schema)
    if problems:
        raise FailedAnswer(
            f"the answer does not match --json-schema: {'; '.join(problems[:3])}", facts
        )
