"""What the three MCP tools answer: arguments (a JSON object) in, a JSON-ready dict out.

Nothing here knows about the protocol: every bad argument (a wrong type, a limit out of range,
an unknown id, a query SQLite cannot read) raises ``InputError`` (``ToolError`` here) with a
message meant for the model that sent it, which the server turns into a tool error instead of a crash. The archive is
only read: callers hand in a read-only connection (``archiver.query.connect.open_readonly``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archiver.errors import InputError
from archiver.query.export import load_conversation
from archiver.query.search import Executes, parse_since, parse_until, search_messages
from archiver.query.select import ConversationFilter
from archiver.query.thread import Turn, current_path, is_visible, thread_events

SEARCH_LIMIT = (20, 200)  # (default, maximum)
LIST_LIMIT = (50, 500)
PAGE_LIMIT = (100, 500)  # messages of get_conversation per call
# A page of get_conversation stops once its text passes this many characters (the next call
# goes on from there), and one longer message is cut to it: a model's context is finite.
PAGE_CHARACTERS = 60_000
ROLES = ("user", "assistant", "tool", "system")
BRANCHES = ("current", "all")
_HIGHLIGHT = ("**", "**")
_LITERAL_HINT = "leave the punctuation out"


class ToolError(InputError):
    """A call the tool cannot answer as asked; the message says what to change."""


class Arguments:
    """A tool's arguments, read one by one with their type and range checked."""

    def __init__(self, tool: str, raw: dict[str, Any] | None, known: tuple[str, ...]):
        self.tool = tool
        self.raw = dict(raw or {})
        unknown = sorted(set(self.raw) - set(known))
        if unknown:
            raise ToolError(
                f"{tool} takes no argument {', '.join(map(repr, unknown))} "
                f"(its arguments: {', '.join(known)})"
            )

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.raw.get(name)
        if value is None:
            if required:
                raise ToolError(f"{self.tool} needs '{name}' (a string)")
            return None
        if not isinstance(value, str):
            raise ToolError(f"'{name}' must be a string, not {type(value).__name__}")
        if required and not value.strip():
            raise ToolError(f"'{name}' must not be empty")
        return value.strip() or None

    def choice(self, name: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
        value = self.text(name) or default
        if value is not None and value not in choices:
            raise ToolError(f"'{name}' must be one of {', '.join(choices)}, not {value!r}")
        return value

    def integer(self, name: str, default: int, low: int, high: int | None = None) -> int:
        value = self.raw.get(name)
        if value is None:
            return default
        # JSON has one number type: 20.0 is a fine 20, 20.5 is not; a bool is not a number.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ToolError(f"'{name}' must be an integer, not {value!r}")
        if value < low or (high is not None and value > high):
            top = f" and at most {high}" if high is not None else ""
            raise ToolError(f"'{name}' must be at least {low}{top}, not {value}")
        return value

    def period(self) -> tuple[str | None, str | None]:
        """``since`` (the start of the period it names) and ``until`` (the end of its own)."""
        since, until = self.text("since"), self.text("until")
        start = parse_since(since, "'since'") if since else None
        end = parse_until(until, "'until'") if until else None
        if start and end and start >= end:
            raise ToolError(f"'since' ({since}) must come before 'until' ({until})")
        return start, end


def _paged(total: int, offset: int, shown: int) -> dict[str, Any]:
    next_offset = offset + shown if offset + shown < total else None
    return {"offset": offset, "total": total, "next_offset": next_offset}


# --- search ------------------------------------------------------------------------------------


def search(db: Executes, raw: dict[str, Any] | None) -> dict[str, Any]:
    args = Arguments("search", raw, ("query", "limit", "provider", "since", "until", "role"))
    query = args.text("query", required=True)
    assert query is not None
    limit = args.integer("limit", SEARCH_LIMIT[0], 1, SEARCH_LIMIT[1])
    provider = args.text("provider")
    role = args.choice("role", ROLES)
    since, until = args.period()
    hits = search_messages(  # its SearchSyntaxError is an InputError: a tool error too
        db,
        query,
        provider=provider,
        role=role,
        since=since,
        until=until,
        limit=limit,
        highlight=_HIGHLIGHT,
        literal_hint=_LITERAL_HINT,
    )
    return {
        "hits": [
            {
                "conversation_id": hit.conversation_id,
                "title": hit.title,
                "provider": hit.provider,
                "message_id": hit.node_id,
                "role": hit.role,
                "create_time": hit.date,
                "snippet": " ".join(hit.snippet.split()),
            }
            for hit in hits
        ],
        "limit": limit,
        "limit_reached": len(hits) == limit,
    }


# --- get_conversation --------------------------------------------------------------------------


def _message(row: dict[str, Any], on_branch: set[str], text: str) -> dict[str, Any]:
    return {
        "id": row.get("id"),
        "parent_id": row.get("parent_id"),
        "role": "assistant" if row.get("role") == "bot" else row.get("role"),
        "text": text,
        "create_time": row.get("create_time"),
        "model": row.get("model_slug"),
        "on_current_branch": str(row.get("id")) in on_branch,
    }


def _branch_rows(messages: list[dict[str, Any]], current_node: Any, branch: str) -> list[Any]:
    """``current``: the current branch's visible messages, root first. ``all``: every visible
    message with text (and every one of the current branch), in reading order, forks depth first."""
    if branch == "current":
        return [m for m in current_path(messages, current_node) if is_visible(m)]
    on_branch = {str(m["id"]) for m in current_path(messages, current_node)}
    return [
        event.message
        for event in thread_events(messages, current_node, "all")
        if isinstance(event, Turn)
        and ((event.message.get("text") or "").strip() or str(event.message["id"]) in on_branch)
    ]


@dataclass(frozen=True)
class Page:
    messages: list[dict[str, Any]]
    cut: bool  # a message's text was cut to PAGE_CHARACTERS


def _page(rows: list[dict[str, Any]], on_branch: set[str], limit: int) -> Page:
    """Up to ``limit`` messages, stopping early once their text passes PAGE_CHARACTERS (the
    first message always comes, cut to that size if it alone is longer)."""
    out: list[dict[str, Any]] = []
    used = 0
    cut = False
    for row in rows[:limit]:
        text = str(row.get("text") or "")
        if out and used + len(text) > PAGE_CHARACTERS:
            break
        if len(text) > PAGE_CHARACTERS:
            missing = len(text) - PAGE_CHARACTERS
            text = text[:PAGE_CHARACTERS] + f"\n[… {missing} more characters not shown]"
            cut = True
        used += len(text)
        out.append(_message(row, on_branch, text))
    return Page(out, cut)


def get_conversation(db: Executes, raw: dict[str, Any] | None) -> dict[str, Any]:
    args = Arguments("get_conversation", raw, ("id", "branch", "offset", "limit"))
    conversation_id = args.text("id", required=True)
    branch = args.choice("branch", BRANCHES, "current")
    offset = args.integer("offset", 0, 0)
    limit = args.integer("limit", PAGE_LIMIT[0], 1, PAGE_LIMIT[1])
    try:
        doc = load_conversation(db, str(conversation_id))
    except InputError:
        raise ToolError(
            f"no conversation with id {conversation_id!r}: take ids from search or "
            "list_conversations"
        ) from None
    conv = doc.conversation
    rows = _branch_rows(doc.messages, conv.get("current_node"), str(branch))
    on_branch = {str(m["id"]) for m in current_path(doc.messages, conv.get("current_node"))}
    page = _page(rows[offset:], on_branch, limit)
    result: dict[str, Any] = {
        "conversation": {
            "id": conv["id"],
            "title": conv.get("title"),
            "provider": conv.get("provider"),
            "create_time": conv.get("create_time"),
            "update_time": conv.get("update_time"),
            "model": conv.get("default_model_slug"),
            "deleted_upstream_at": conv.get("deleted_upstream_at"),
        },
        "branch": branch,
        "messages": page.messages,
        **_paged(len(rows), offset, len(page.messages)),
    }
    notes = []
    if result["next_offset"] is not None:
        notes.append(
            f"messages {offset + 1}-{offset + len(page.messages)} of {len(rows)} shown: call "
            f"again with offset={result['next_offset']} for the rest"
        )
    elif offset >= len(rows) and rows:
        notes.append(f"offset {offset} is past the last message ({len(rows)} in all)")
    if page.cut:
        notes.append(f"a message longer than {PAGE_CHARACTERS} characters was cut")
    result["note"] = "; ".join(notes) or None
    return result


# --- list_conversations ------------------------------------------------------------------------

# Visible messages over every branch (what conversation_stats counts, for one page of ids).
_MESSAGE_COUNT = (
    "(SELECT count(*) FROM messages AS m WHERE m.conversation_id = c.id "
    "AND m.is_hidden = 0 AND m.raw_json IS NOT NULL)"
)


def list_conversations(db: Executes, raw: dict[str, Any] | None) -> dict[str, Any]:
    args = Arguments(
        "list_conversations", raw, ("provider", "since", "until", "title", "limit", "offset")
    )
    provider = args.text("provider")
    title = args.text("title")
    limit = args.integer("limit", LIST_LIMIT[0], 1, LIST_LIMIT[1])
    offset = args.integer("offset", 0, 0)
    since, until = args.period()
    selected = ConversationFilter(provider=provider, title=title, since=since, until=until)
    condition, params = selected.where()
    total = selected.count(db)
    cursor = db.execute(
        "SELECT c.id, c.title, c.provider, c.create_time, c.update_time, "
        f"{_MESSAGE_COUNT} FROM conversations AS c WHERE {condition} "
        "ORDER BY coalesce(c.update_time, c.create_time) DESC, c.id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    names = ("id", "title", "provider", "create_time", "update_time", "message_count")
    conversations = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return {
        "conversations": conversations,
        "limit": limit,
        **_paged(total, offset, len(conversations)),
    }


TOOLS: dict[str, Callable[[Executes, dict[str, Any] | None], dict[str, Any]]] = {
    "search": search,
    "get_conversation": get_conversation,
    "list_conversations": list_conversations,
}
