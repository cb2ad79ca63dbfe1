"""Sans-I/O: find, in a conversation ChatGPT already holds, the answer to a prompt we sent
(identified by the message id we gave it), so that a send that may have arrived is never
sent twice (docs/protocol/chatgpt.md, "No double sends")."""

from __future__ import annotations

from typing import Any

from archiver.errors import TransientError
from archiver.flatten.content import content_text
from archiver.providers.chatgpt.client import parse_list_page
from archiver.providers.chatgpt.stream import StreamedAnswer
from archiver.timeutil import to_datetime

MAX_CANDIDATES = 5  # recent conversations looked into when the try never named its own
CLOCK_MARGIN_SECONDS = 120.0  # the server's clock may run behind ours


class AnswerPending(TransientError):
    """The prompt reached ChatGPT but its answer is not finished yet: look again later,
    never send it again."""


def _role(message: dict[str, Any]) -> str | None:
    author = message.get("author")
    return author.get("role") if isinstance(author, dict) else None


def adopted_answer(detail: Any, conversation_id: str, user_id: str) -> StreamedAnswer | None:
    """The finished answer under our user message, as if streamed; None when our message is
    not in the conversation; AnswerPending when it is but no finished answer follows it."""
    mapping = detail.get("mapping") if isinstance(detail, dict) else None
    if not isinstance(mapping, dict):
        return None
    start = None
    for node_id, node in mapping.items():
        message = node.get("message") if isinstance(node, dict) else None
        if isinstance(message, dict) and message.get("id") == user_id:
            start = node_id
            break
    if start is None:
        return None
    # Down the newest branch under the prompt: tool calls and their results may come between.
    path: list[dict[str, Any]] = [mapping[start]["message"]]
    node = mapping[start]
    seen = {start}
    while isinstance(node, dict):
        children = [c for c in node.get("children") or [] if c in mapping and c not in seen]
        if not children:
            break
        seen.add(children[-1])
        node = mapping[children[-1]]
        message = node.get("message") if isinstance(node, dict) else None
        if isinstance(message, dict):
            path.append(message)
    answers = [m for m in path if _role(m) == "assistant" and m.get("recipient") in (None, "all")]
    final = answers[-1] if answers else None
    if final is None or final.get("status") == "in_progress":
        raise AnswerPending(
            f"the prompt reached ChatGPT (conversation {conversation_id}) but its answer is "
            "not finished yet: looking again before anything is sent"
        )
    metadata = final.get("metadata")
    finish = metadata.get("finish_details") if isinstance(metadata, dict) else None
    title = detail.get("title")
    return StreamedAnswer(
        conversation_id=conversation_id,
        message_id=str(final["id"]),
        text=content_text(final.get("content")) or "",
        status=final.get("status") if isinstance(final.get("status"), str) else None,
        finish_details=finish if isinstance(finish, dict) else None,
        message=final,
        messages=path,
        title=title if isinstance(title, str) and title != "New chat" else None,
        encoding="adopted",
    )


def recent_candidates(listing: Any, *, since: float) -> list[str]:
    """Conversations of the newest list page updated since ``since`` (epoch seconds, less a
    margin for clock skew), newest first, at most MAX_CANDIDATES."""
    found = []
    for item in parse_list_page(listing):
        updated = to_datetime(item.update_time)
        if updated is not None and updated.timestamp() >= since - CLOCK_MARGIN_SECONDS:
            found.append(item.id)
    return found[:MAX_CANDIDATES]
