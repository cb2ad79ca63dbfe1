"""Synthetic Copilot conversations: list entries and history messages (shapes from
docs/protocol/copilot.md).

Answers use several ``text`` parts and every kind of side part the protocol lists (citations,
images, documents, chain of thought), so clients meet the variants. Message builders are shared
with the chat socket so live answers and history have the same shape."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime

from archiver.fakes import data
from archiver.loosejson import Json

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_PUBLISHERS = ("Wikipedia", "Microsoft Learn", "Stack Overflow", "BBC", "MDN Web Docs")
TYPES = ("chat", "chat", "chat", "character", "group")


# Where generated images live; the history route rewrites it to the emulator's own address.
IMAGE_HOST = "https://images.example.org"


def nano_id(*parts: object) -> str:
    """A 21-character id like Copilot's, stable for the same parts."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:21])


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def chat_summary(index: int, *, seed: int = 0) -> Json:
    title, create, update = data.listed_chat(f"{seed}:copilot", index, first_day=600, spacing=6_000)
    return {
        "id": nano_id(seed, "copilot", index),
        "title": title,
        "type": TYPES[index % len(TYPES)],
        "createTime": create,
        "updateTime": update,
    }


def _message(author: str, ident: str, ts: float, content: list[Json]) -> Json:
    return {
        "id": ident,
        "author": {"type": author},
        "createdAt": iso(ts),
        "mode": "chat",
        "streamingState": "final",
        "content": content,
    }


def user_message(text: str, ts: float, rng: random.Random, *, ident: str | None = None) -> Json:
    ident = ident or nano_id("msg", rng.random())  # drawn before the part's id, as ever
    part = {"type": "text", "text": text, "partId": nano_id("part", rng.random())}
    return _message("human", ident, ts, [part])


def answer_parts(reply: str, rng: random.Random) -> list[Json]:
    """The reply cut into one to three text parts at sentence ends: a long answer spans
    several parts, as on the real service."""
    sentences = [s if s.endswith(".") else s + "." for s in reply.split(". ") if s]
    n = min(len(sentences), rng.randint(1, 3))
    size = -(-len(sentences) // n)
    chunks = [" ".join(sentences[i : i + size]) for i in range(0, len(sentences), size)]
    return [
        {"type": "text", "text": chunk, "partId": nano_id("part", rng.random())} for chunk in chunks
    ]


def side_parts(rng: random.Random, index: int) -> list[Json]:
    parts: list[Json] = []
    if rng.random() < 0.6:
        n = rng.randint(1, 2)
        for i in range(n):
            slug = nano_id("cite", index, i, rng.random())[:8]
            parts.append(
                {
                    "type": "citation",
                    "title": data.title_for(rng),
                    "url": f"https://example.org/{slug}",
                    "publisher": rng.choice(_PUBLISHERS),
                    "snippet": data.sentence(rng),
                    "position": i,
                }
            )
    roll = rng.random()
    if roll < 0.25:
        slug = nano_id("img", index, rng.random())[:10]
        parts.append(
            {
                "type": "image",
                "url": f"{IMAGE_HOST}/{slug}.png",
                "thumbnailUrl": f"{IMAGE_HOST}/{slug}-thumb.png",
                "fileName": f"{slug}.png",
                "prompt": data.sentence(rng, 3, 6),
            }
        )
    elif roll < 0.4:
        parts.insert(0, {"type": "chainOfThought", "text": data.sentence(rng)})
    return parts


def answer_message(
    reply: str,
    ts: float,
    rng: random.Random,
    index: int,
    *,
    ident: str | None = None,
    extras: bool = True,
) -> Json:
    content = answer_parts(reply, rng)
    if extras:
        content += side_parts(rng, index)
    return _message("ai", ident or nano_id("msg", rng.random()), ts, content)


def chat_messages(index: int, *, seed: int = 0) -> list[Json]:
    """The history of generated conversation ``index``, oldest first."""
    rng = random.Random(f"{seed}:copilot:{index}")
    summary = chat_summary(index, seed=seed)
    ts = summary["createTime"]
    messages: list[Json] = []
    for turn in range(rng.randint(1, 5)):
        prompt = data.sentence(rng)
        user = user_message(prompt, ts, rng)
        if turn == 0 and index % 4 == 1:  # an uploaded document with the first prompt
            user["content"].append(
                {
                    "type": "document",
                    "fileName": f"notes-{index}.pdf",
                    "attachmentId": nano_id("doc", seed, index),
                    "contentType": "application/pdf",
                }
            )
        messages.append(user)
        ts += rng.uniform(2, 30)
        messages.append(
            answer_message(data.answer_text(prompt, long=rng.random() < 0.3), ts, rng, index)
        )
        ts += rng.uniform(10, 300)
    return messages
