"""``stream: true`` sends the answer as it is written, through the official ``openai`` client:
deltas as the upstream frames arrive, never text twice, never text the archived answer lacks."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from archiver.emulator import RunningEmulator, running_emulator
from tests.support.fakes import fake_config
from tests.support.gateway import RunningGateway, running_gateway

ALL = ("chatgpt", "bing", "copilot")
# The model that reaches each provider, and the 2023 ChatGPT route (v1 deltas on
# POST conversation) beside today's f/conversation patches.
MODELS = {
    "chatgpt": ("auto", {}),
    "chatgpt-2023": ("auto", {"chatgpt_send_paths": "legacy"}),
    "bing": ("bing/Balanced", {}),
    "copilot": ("copilot/smart", {}),
}
PROMPT = "Stream me a long story about otters and herons"


def client(gw: RunningGateway, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.base_url + "/v1", api_key=key, max_retries=0)


def stored_answer(db_path: Path) -> tuple[str, str]:
    with sqlite3.connect(db_path) as conn:
        [(status, answer)] = conn.execute("SELECT status, answer FROM gateway_exchanges").fetchall()
    return status, answer


def deltas_of(chunks: list[Any]) -> list[str]:
    return [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]


@pytest.fixture
def gateway_for(db_path: Path, keys: Any) -> Iterator[Any]:
    """Start an emulator (with config overrides) and a gateway over all three accounts."""
    stack: list[Any] = []

    def start(**config: Any) -> tuple[RunningEmulator, RunningGateway]:
        emu_cm = running_emulator(fake_config(chatgpt_conversations=0, bing_chats=0, **config))
        emu = emu_cm.__enter__()
        stack.append(emu_cm)
        gw_cm = running_gateway(db_path, emu, providers=ALL)
        gw = gw_cm.__enter__()
        stack.append(gw_cm)
        return emu, gw

    yield start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


@pytest.mark.parametrize("route", sorted(MODELS))
def test_stream_sends_the_answer_in_pieces_as_it_comes(
    route: str, gateway_for: Any, keys: Any, db_path: Path
) -> None:
    model, config = MODELS[route]
    _, gw = gateway_for(**config)
    chunks = list(
        client(gw, keys.user).chat.completions.create(
            model=model, messages=[{"role": "user", "content": PROMPT}], stream=True
        )
    )
    deltas = deltas_of(chunks)
    status, answer = stored_answer(db_path)
    assert status == "done"
    assert len(deltas) > 1  # the emulator writes every answer in several frames
    assert "".join(deltas) == answer
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert (chunks[-1].model_extra or {})["archiver"]["conversation_id"]


@pytest.mark.parametrize("route", ["chatgpt", "bing", "copilot"])
def test_a_stream_broken_after_some_text_sends_nothing_twice(
    route: str, gateway_for: Any, keys: Any, db_path: Path
) -> None:
    # The first answer stream is cut half-way, after some of its text went to the client.
    # ChatGPT and Copilot then find the answer upstream (no second send); Bing asks again and
    # streams the same answer from its start.
    model, config = MODELS[route]
    emu, gw = gateway_for(drop_sends=1, **config)
    chunks = list(
        client(gw, keys.user).chat.completions.create(
            model=model, messages=[{"role": "user", "content": PROMPT}], stream=True
        )
    )
    assert emu.state.drops_left == 0  # the cut did happen
    assert gw.gateway(route).stats.upstream_requests > 1
    status, answer = stored_answer(db_path)
    assert status == "done"
    deltas = deltas_of(chunks)
    assert len(deltas) > 1
    assert "".join(deltas) == answer
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_a_retry_that_answers_differently_ends_the_stream_with_an_error(
    gateway_for: Any, keys: Any, db_path: Path
) -> None:
    _, gw = gateway_for()
    sender = gw.gateway("chatgpt").sender
    original = sender.send

    async def broken_first(*args: Any, on_text: Any = None) -> Any:
        # A first try that streamed this much and broke; the retry answers something else.
        if on_text is not None:
            on_text("Certainly not what the account will answer")
        return await original(*args, on_text=on_text)

    sender.send = broken_first
    got: list[Any] = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in client(gw, keys.user).chat.completions.create(
            model="auto", messages=[{"role": "user", "content": PROMPT}], stream=True
        ):
            got.append(chunk)
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "answer_changed"
    # Only the first try's text went out, once; no finish chunk; the real answer is archived.
    assert deltas_of(got) == ["Certainly not what the account will answer"]
    assert all(c.choices[0].finish_reason is None for c in got)
    status, answer = stored_answer(db_path)
    assert status == "done" and not answer.startswith("Certainly")


def test_a_retry_that_catches_up_continues_where_the_client_is(
    gateway_for: Any, keys: Any, db_path: Path
) -> None:
    _, gw = gateway_for()
    sender = gw.gateway("bing").sender
    original = sender.send

    async def broken_first(*args: Any, on_text: Any = None) -> Any:
        # What the real retry will stream, up to a point: its start is not sent again.
        answer = await original(*args)
        if on_text is not None:
            on_text(answer.text[: len(answer.text) // 2])
            on_text(answer.text[:3])  # the retry, from its start
        return answer

    sender.send = broken_first
    chunks = list(
        client(gw, keys.user).chat.completions.create(
            model="bing/Balanced", messages=[{"role": "user", "content": PROMPT}], stream=True
        )
    )
    _, answer = stored_answer(db_path)
    half = answer[: len(answer) // 2]
    assert deltas_of(chunks) == [half, answer[len(half) :]]
