"""/v1/chat/completions and /v1/models, driven by the official ``openai`` client."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import openai
import pytest

from archiver.emulator import RunningEmulator
from tests.support.gateway import RunningGateway, http

CONVERSATION = "X-Archiver-Conversation"


def client(gw: RunningGateway, key: str, **kwargs: object) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.base_url + "/v1", api_key=key, max_retries=0, **kwargs)  # type: ignore[arg-type]


def rows(db_path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql, params).fetchall()


def test_plain_completion_is_answered_and_archived(gw: RunningGateway, keys, db_path: Path) -> None:
    raw = client(gw, keys.user).chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "Tell me about otters"}]
    )
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == "auto"
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert "otters" in (choice.message.content or "")
    assert choice.finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    conversation_id = raw.headers[CONVERSATION]
    # Archived as it passed: the question and the answer, searchable at once.
    hits = rows(
        db_path,
        "SELECT m.conversation_id, m.role FROM messages_fts JOIN messages m "
        "ON m.rowid = messages_fts.rowid WHERE messages_fts MATCH 'otters'",
    )
    assert {(conversation_id, "user"), (conversation_id, "assistant")} <= set(hits)
    assert rows(db_path, "SELECT source FROM conversations WHERE id = ?", (conversation_id,)) == [
        ("gateway",)
    ]


def test_stream_with_usage(gw: RunningGateway, keys) -> None:
    stream = client(gw, keys.user).chat.completions.create(
        model="auto",
        messages=[{"role": "user", "content": "Stream me a story about herons"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert len({c.id for c in chunks}) == 1
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "herons" in text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and finishes.count("stop") == 1
    # include_usage: one more chunk, after the one that finished, with no choices.
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])


def test_stream_without_usage_has_no_usage_chunk(gw: RunningGateway, keys) -> None:
    chunks = list(
        client(gw, keys.user).chat.completions.create(
            model="auto", messages=[{"role": "user", "content": "Short one"}], stream=True
        )
    )
    assert all(c.choices for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_models_lists_both_accounts(gw: RunningGateway, keys) -> None:
    models = client(gw, keys.user).models.list()
    ids = [m.id for m in models.data]
    assert ids[0] == "auto"
    assert "bing/Balanced" in ids
    assert all(m.object == "model" and m.owned_by.startswith("archiver-") for m in models.data)


def test_bad_key_is_an_openai_shaped_401(gw: RunningGateway) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        client(gw, "ak_not-a-key").chat.completions.create(
            model="auto", messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.status_code == 401
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["code"] == "invalid_api_key"
    assert body["type"] == "authentication_error"
    assert "refused" in body["message"]
    # No key at all: a 401 too, saying a key is needed.
    response = http("GET", gw.base_url + "/v1/models")
    assert response.status == 401
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_bad_requests_are_openai_shaped(gw: RunningGateway, keys) -> None:
    api = client(gw, keys.user)
    with pytest.raises(openai.BadRequestError) as caught:
        api.chat.completions.create(model="auto", messages=[])
    assert caught.value.status_code == 400
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == "messages"
    with pytest.raises(openai.BadRequestError):
        api.chat.completions.create(
            model="auto", messages=[{"role": "assistant", "content": "no question"}]
        )
    response = http(
        "POST",
        gw.base_url + "/v1/chat/completions",
        key=keys.user,
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 400 and response.json()["error"]["code"] == "invalid_json"
    missing = http("GET", gw.base_url + "/v1/nothing", headers={"Authorization": keys.user})
    assert missing.status == 404 and "error" in missing.json()


def test_conversation_header_continues_the_conversation(
    gw: RunningGateway,
    keys,
    db_path: Path,
    emu: RunningEmulator,
) -> None:
    api = client(gw, keys.user)
    first = api.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "Remember the word lighthouse"}]
    )
    conversation_id = first.headers[CONVERSATION]
    second = api.chat.completions.with_raw_response.create(
        model="auto",
        messages=[
            {"role": "user", "content": "Remember the word lighthouse"},
            {"role": "assistant", "content": first.parse().choices[0].message.content},
            {"role": "user", "content": "Which word was it?"},
        ],
        extra_headers={CONVERSATION: conversation_id},
    )
    assert second.headers[CONVERSATION] == conversation_id
    # Upstream got only the new question, in the same conversation, after the first answer.
    assert emu.state.counters.prompts == 2
    users = rows(
        db_path,
        "SELECT text FROM messages WHERE conversation_id = ? AND role = 'user' "
        "AND on_current_branch ORDER BY depth",
        (conversation_id,),
    )
    assert users == [("Remember the word lighthouse",), ("Which word was it?",)]
    assert rows(db_path, "SELECT count(DISTINCT conversation_id) FROM gateway_exchanges") == [(1,)]


def test_stream_names_the_conversation_in_its_last_chunk(gw: RunningGateway, keys) -> None:
    api = client(gw, keys.user)
    chunks = list(
        api.chat.completions.create(
            model="auto", messages=[{"role": "user", "content": "Begin"}], stream=True
        )
    )
    extra = chunks[-1].model_extra or {}
    conversation_id = extra["archiver"]["conversation_id"]
    with api.chat.completions.with_streaming_response.create(
        model="auto",
        messages=[{"role": "user", "content": "Go on"}],
        stream=True,
        extra_headers={CONVERSATION: conversation_id},
    ) as response:
        assert response.headers[CONVERSATION] == conversation_id
        list(response.iter_lines())


def test_new_conversation_gets_earlier_turns_as_a_transcript(
    gw: RunningGateway,
    keys,
    db_path: Path,
) -> None:
    client(gw, keys.user).chat.completions.create(
        model="auto",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Name a bird"},
            {"role": "assistant", "content": "A heron."},
            {"role": "user", "content": "Another one?"},
        ],
    )
    [(prompt,)] = rows(db_path, "SELECT prompt FROM gateway_exchanges")
    assert isinstance(prompt, str)
    assert "System: Be brief." in prompt and "Assistant: A heron." in prompt
    assert prompt.rstrip().endswith("Another one?")


def test_unknown_conversation_header_is_404(gw: RunningGateway, keys) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client(gw, keys.user).chat.completions.create(
            model="auto",
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={CONVERSATION: "no-such-conversation"},
        )
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "conversation_not_found"


def test_bing_model_goes_to_the_bing_account(gw: RunningGateway, keys, db_path: Path) -> None:
    completion = client(gw, keys.user).chat.completions.create(
        model="bing/Precise", messages=[{"role": "user", "content": "Hello Sydney"}]
    )
    assert "Hello Sydney" in (completion.choices[0].message.content or "")
    assert rows(db_path, "SELECT provider, source FROM conversations") == [("bing", "gateway")]
