"""Deterministic building blocks shared by the fake upstreams' generators.

Everything here is a pure function of its inputs (a seed string, an index, a prompt), so the same
``--seed`` always serves byte-identical data and tests can compare two runs.
"""

from __future__ import annotations

import hashlib
import random
import uuid

# 2023-01-01T00:00:00Z: generated chats start here and spread forward from it.
EPOCH_START = 1_672_531_200.0

_WORD_TEXT = (
    "archive model token stream branch answer prompt network latency cache index query "
    "schema record export import parser budget window retry signal garden river mountain "
    "recipe travel museum history physics music poetry language compiler kernel database "
    "protocol account summary detail example benchmark migration sqlite python rust graph "
    "vector matrix theorem proof story chapter letter meeting agenda invoice weather"
)
_WORDS = _WORD_TEXT.split()

_TOPICS = (
    "Trip planning",
    "SQL window functions",
    "Bread recipe",
    "Rust lifetimes",
    "Cover letter draft",
    "Physics homework",
    "Poem about rivers",
    "Kubernetes ingress",
    "Budget spreadsheet",
    "Regex help",
    "Birthday ideas",
    "Explain transformers",
    "Garden layout",
    "Python asyncio",
    "中文翻译练习",
    "Résumé review",
)


def stable_uuid(*parts: object) -> str:
    """A UUID4-shaped id that depends only on ``parts`` (no global random state)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def rng_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def stable_fraction(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts``: deterministic coin flips without shared state."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def title_for(rng: random.Random) -> str:
    return f"{rng.choice(_TOPICS)} {rng.choice(_WORDS)}"


def listed_chat(kind: str, index: int, *, first_day: int, spacing: int) -> tuple[str, float, float]:
    """Title, create and update time of generated chat ``index`` in a flat-history fake's
    list (``kind`` seeds it): chats ``spacing`` seconds apart from ``first_day`` on, each
    touched within the hour."""
    rng = random.Random(f"{kind}:{index}:summary")
    create = EPOCH_START + first_day * 86_400 + index * spacing + rng.uniform(0, spacing - 1_000)
    title = title_for(rng)
    return title, create, create + rng.uniform(60, 4_000)


def sentence(rng: random.Random, low: int = 6, high: int = 14) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


def answer_text(prompt: str, *, long: bool = False) -> str:
    """The emulator's reply to ``prompt``: a few sentences that mention it, same prompt → same text.

    Long enough to come in several stream chunks; ``long`` answers are several times longer so
    they can be cut at ``max_tokens`` and finished by a ``continue`` request.
    """
    rng = random.Random(f"answer:{prompt}")
    topic = " ".join(prompt.replace("[long]", "").split()[:6]) or "that"
    count = 14 if long else 4
    return f"Here is what I can say about {topic}. " + paragraph(rng, count)


def split_chunks(text: str, rng: random.Random) -> list[str]:
    """Split ``text`` into stream-sized pieces (1–4 words each, whitespace kept)."""
    chunks: list[str] = []
    words = text.split(" ")
    i = 0
    while i < len(words):
        n = rng.randint(1, 4)
        piece = " ".join(words[i : i + n])
        i += n
        chunks.append(piece if i >= len(words) else piece + " ")
    return chunks
