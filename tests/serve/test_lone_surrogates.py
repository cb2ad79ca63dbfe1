"""Issue 27: an answer that ends in half an emoji (a lone surrogate, as a server that cuts a
string sends it) was a 500 and was not archived. Now the client gets U+FFFD in its place and
the archive keeps the raw JSON as received (tests/reliability/test_lone_surrogates.py: the rest)."""

from __future__ import annotations

from pathlib import Path

from archiver.providers.chatgpt.fake.stream import HALF_EMOJI
from tests.serve.test_openai import client, rows
from tests.support.gateway import RunningGateway


def test_gateway_answers_and_archives(gw: RunningGateway, keys, db_path: Path) -> None:
    openai = client(gw, keys.user)
    plain = openai.chat.completions.create(
        model="auto", messages=[{"role": "user", "content": f"plain {HALF_EMOJI}"}]
    )
    assert (plain.choices[0].message.content or "").endswith("\ufffd")
    chunks = list(
        openai.chat.completions.create(
            model="auto",
            messages=[{"role": "user", "content": f"streamed {HALF_EMOJI}"}],
            stream=True,
        )
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed.endswith("\ufffd")
    assert chunks[-1].choices[0].finish_reason == "stop"
    archived = rows(db_path, "SELECT text, raw_json FROM messages WHERE role = 'assistant'")
    assert len(archived) == 2
    for text, raw in archived:
        assert str(text).endswith("\ufffd") and "\\ud83d" in str(raw)
