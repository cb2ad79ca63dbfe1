"""Synthetic Bing ("Sydney") chats: flat message lists with the side messages Bing interleaves.

Message builders are shared with the ChatHub handler so live answers and saved history have the
same shape.
"""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import UTC, datetime, timedelta, timezone

from archiver.fakes import data
from archiver.loosejson import Json

SERVICE_VERSION = "20230518.108"
TONES = ("Balanced", "Creative", "Precise")
_PROVIDERS = ("Wikipedia", "Microsoft Learn", "Stack Overflow", "BBC", "MDN Web Docs")


def client_id(seed: int) -> str:
    return str(int(data.stable_fraction(seed, "bing-client") * 10**16)).zfill(16)


def conversation_id(*parts: object) -> str:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest().upper()
    return f"51D|BingProd|{digest}"


def signature(seed: int, cid: str) -> str:
    return base64.b64encode(hashlib.sha256(f"{seed}:sig:{cid}".encode()).digest()).decode()


def encrypted_signature(seed: int, cid: str) -> str:
    raw = hashlib.sha512(f"{seed}:enc:{cid}".encode()).digest() * 2
    return base64.b64encode(raw).decode()


def created_at(ts: float) -> str:
    # Bing writes seven fractional digits; Python stops at six, so pad one.
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds")[:-6] + "0+00:00"


def local_timestamp(ts: float) -> str:
    zone = timezone(timedelta(hours=-7))
    return datetime.fromtimestamp(ts, zone).isoformat(timespec="milliseconds")


def _common(ts: float, rng: random.Random, request_id: str) -> Json:
    return {
        "createdAt": created_at(ts),
        "timestamp": local_timestamp(ts),
        "messageId": data.rng_uuid(rng),
        "requestId": request_id,
        "offense": "None",
        "feedback": {"tag": None, "updatedOn": None, "type": "None"},
        "privacy": None,
    }


def user_message(text: str, ts: float, cid: str, rng: random.Random, request_id: str) -> Json:
    return {
        "text": text,
        "author": "user",
        "from": {"id": cid, "name": None, "partnerId": None},
        **_common(ts, rng, request_id),
        "locale": "en-us",
        "market": "en-us",
        "region": "us",
        "inputMethod": "Keyboard",
        "contentOrigin": "cib",
    }


def _card(text: str) -> list[Json]:
    body = [{"type": "TextBlock", "text": text, "wrap": True}]
    return [{"type": "AdaptiveCard", "version": "1.0", "body": body}]


def side_messages(prompt: str, ts: float, rng: random.Random, request_id: str) -> list[Json]:
    """The internal search query / result / loader messages Bing shows before an answer."""
    query = " ".join(prompt.split()[:5])
    result = (
        '```json\n{"web_search_results":[{"title":"Example","url":"https://example.com"}]}\n```'
    )
    kinds = (
        ("InternalSearchQuery", f"Searching the web for: `{query}`", query),
        ("InternalSearchResult", result, result),
        ("InternalLoaderMessage", "Generating answers for you...", "Generating answers for you..."),
    )
    out = []
    for kind, text, hidden in kinds:
        msg = {"text": text, "hiddenText": hidden, "author": "bot", **_common(ts, rng, request_id)}
        msg.update(messageType=kind, adaptiveCards=_card(text), contentOrigin="DeepLeo")
        out.append(msg)
    return out


def answer_message(
    text: str, ts: float, rng: random.Random, request_id: str, *, card_only: bool = False
) -> Json:
    """The bot's chat answer; ``card_only`` leaves ``text`` empty with the text in the card."""
    suggestions = []
    for _ in range(3):
        s = {"text": data.sentence(rng, 3, 6).rstrip(".") + "?", "author": "user"}
        s.update(_common(ts, rng, request_id), messageType="Suggestion", contentOrigin="DeepLeo")
        s["offense"] = "Unknown"
        suggestions.append(s)
    sources = [
        {
            "providerDisplayName": rng.choice(_PROVIDERS),
            "seeMoreUrl": f"https://example.com/{rng.randint(1, 999)}",
            "searchQuery": data.sentence(rng, 2, 4).rstrip("."),
        }
        for _ in range(rng.randint(0, 3))
    ]
    msg = {"text": "" if card_only else text, "author": "bot", **_common(ts, rng, request_id)}
    msg.update(
        adaptiveCards=_card(text),
        sourceAttributions=sources,
        suggestedResponses=suggestions,
        spokenText=text.split(".")[0],
        contentOrigin="DeepLeo",
        contentType=None,
    )
    return msg


def chat_summary(index: int, *, seed: int = 0) -> Json:
    title, create, update = data.listed_chat(f"{seed}:bing", index, first_day=40, spacing=7_000)
    return {
        "conversationId": conversation_id(seed, "bing", index),
        "chatName": title,
        "tone": TONES[index % 3],
        "createTime": create,
        "updateTime": update,
    }


def chat_messages(index: int, *, seed: int = 0) -> list[Json]:
    """The saved history of generated chat ``index`` (what GetConversation returns)."""
    rng = random.Random(f"{seed}:bing:{index}")
    summary = chat_summary(index, seed=seed)
    ts = summary["createTime"]
    cid = client_id(seed)
    messages: list[Json] = []
    for turn in range(rng.randint(1, 4)):
        request_id = data.rng_uuid(rng)
        prompt = data.sentence(rng).rstrip(".") + "?"
        messages.append(user_message(prompt, ts, cid, rng, request_id))
        ts += rng.uniform(2, 20)
        if (index + turn) % 2 == 0:
            messages.extend(side_messages(prompt, ts, rng, request_id))
        card_only = (index + turn) % 5 == 3
        answer = data.paragraph(rng, rng.randint(2, 5))
        messages.append(answer_message(answer, ts, rng, request_id, card_only=card_only))
        ts += rng.uniform(10, 300)
    if index % 7 == 6:  # a retracted answer
        last = messages[-1]
        last.update(
            text="Hmm…let's try a different topic. Sorry about that.", contentOrigin="Apology"
        )
    return messages
