"""What a model reads about each tool: when to use it, what its arguments and fields mean, and
the JSON Schemas of its arguments and its result (``structuredContent``)."""

from __future__ import annotations

from typing import Any

from archiver.mcp.tools import BRANCHES, LIST_LIMIT, PAGE_LIMIT, ROLES, SEARCH_LIMIT

_NULLABLE_STRING = {"type": ["string", "null"]}
_TIME = {
    "type": ["string", "null"],
    "description": "ISO-8601 UTC time, e.g. 2024-05-17T09:30:00.000000Z; null when unknown.",
}
_PERIOD = "2024, 2024-05, 2024-05-17, a full ISO time, or a number of days ago such as 30d. "
_PAGING = {
    "offset": {"type": "integer", "description": "Where this page starts (0-based)."},
    "total": {"type": "integer", "description": "How many there are in all."},
    "next_offset": {
        "type": ["integer", "null"],
        "description": "The offset of the next page; null when this page is the last.",
    },
}

SEARCH_DESCRIPTION = f"""\
Full-text search over every message of the user's archived AI chat history ({{providers}}):
their own past questions and the answers they got. Use it first whenever the user
refers to something they discussed, asked or were told before, or when their history could
answer the question. Results are messages, best matches first; read the whole conversation of a
hit with get_conversation(id=conversation_id).

`query` uses SQLite FTS5 syntax: plain words (all must occur), "an exact phrase", prefix*
(matches the start of a word), OR, NOT, NEAR(a b). A word with punctuation must be in double
quotes ("e-mail", "gpt-4o"). Filters narrow the hits: provider, role, and a period (`since`,
`until`) in which the message was written. Each hit's snippet shows the matched words in
**bold**. `limit` is {SEARCH_LIMIT[0]} by default, at most {SEARCH_LIMIT[1]}; when
`limit_reached` is true there may be more: narrow the query or raise the limit."""

GET_CONVERSATION_DESCRIPTION = f"""\
Read one archived conversation, with its metadata and its messages in order. Use it after
search or list_conversations found the conversation you need (`id` is their conversation id).

A conversation is a tree: an edited question or a regenerated answer starts a new branch.
branch="current" (the default) gives only the branch the user last saw, root first: what they
would read in the chat app. branch="all" gives every message with text on every branch, in
reading order with each fork's alternatives one after the other; `on_current_branch` tells which
messages the user's final version kept, and `parent_id` links each message to the one it
answers or follows.

Long conversations come in pages: at most `limit` messages ({PAGE_LIMIT[0]} by default, at
most {PAGE_LIMIT[1]}), fewer when their text is long; when `next_offset` is not null, call
again with offset=next_offset for the rest. `note` says when a page or a message was cut."""

LIST_CONVERSATIONS_DESCRIPTION = f"""\
List the user's archived conversations, newest (most recently updated) first: id, title,
provider, creation and last update time, and how many visible messages each has (all branches).
Use it to browse or count what was discussed in a period, by one provider, or under a title;
to find a topic inside the messages, use search instead.

Filters: `provider` ({{providers}}), `title` (a case-insensitive part of the
title), and a period (`since`, `until`): a conversation is listed when it was active in the
period (started before its end and last updated after its start). Pages of `limit`
conversations ({LIST_LIMIT[0]} by default, at most {LIST_LIMIT[1]}); when `next_offset` is not
null, call again with offset=next_offset for the next page."""


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


def _provider(providers: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "string", "description": f"Only this provider's: {', '.join(providers)}."}


def _list_of(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": _object(properties)}


def _limit(default_max: tuple[int, int], what: str) -> dict[str, Any]:
    return {
        "type": "integer",
        "minimum": 1,
        "maximum": default_max[1],
        "default": default_max[0],
        "description": f"How many {what} at most.",
    }


_SINCE = {"type": "string", "description": "From the start of this period on: " + _PERIOD}
_UNTIL = {"type": "string", "description": "Up to the end of this period: " + _PERIOD}
_OFFSET = {"type": "integer", "minimum": 0, "default": 0, "description": "Skip this many."}
# What get_conversation and list_conversations both say of a conversation.
_CONVERSATION = {
    "id": {"type": "string"},
    "title": _NULLABLE_STRING,
    "provider": {"type": "string"},
    "create_time": _TIME,
    "update_time": _TIME,
}

SEARCH_INPUT = _object(
    {
        "query": {"type": "string", "description": "What to look for (FTS5 syntax)."},
        "limit": _limit(SEARCH_LIMIT, "hits"),
        "provider": {"type": "string"},  # described by tool_definitions
        "since": _SINCE,
        "until": _UNTIL,
        "role": {
            "type": "string",
            "enum": list(ROLES),
            "description": "Only messages of this author: user (the user's own words), "
            "assistant, tool or system.",
        },
    },
    ("query",),
)

SEARCH_OUTPUT = _object(
    {
        "hits": _list_of(
            {
                "conversation_id": {"type": "string"},
                "title": _NULLABLE_STRING,
                "provider": {"type": "string"},
                "message_id": {
                    "type": "string",
                    "description": "The message's id in get_conversation's messages.",
                },
                "role": _NULLABLE_STRING,
                "create_time": _TIME,
                "snippet": {"type": "string"},
            }
        ),
        "limit": {"type": "integer"},
        "limit_reached": {"type": "boolean"},
    }
)

GET_CONVERSATION_INPUT = _object(
    {
        "id": {"type": "string", "description": "The conversation's id."},
        "branch": {
            "type": "string",
            "enum": list(BRANCHES),
            "default": "current",
            "description": "current: the branch the user last saw; all: every branch.",
        },
        "offset": _OFFSET,
        "limit": _limit(PAGE_LIMIT, "messages"),
    },
    ("id",),
)

GET_CONVERSATION_OUTPUT = _object(
    {
        "conversation": _object(
            {
                **_CONVERSATION,
                "model": _NULLABLE_STRING,
                "deleted_upstream_at": {
                    **_TIME,
                    "description": "When the provider no longer had it (kept here); null.",
                },
            }
        ),
        "branch": {"type": "string", "enum": list(BRANCHES)},
        "messages": _list_of(
            {
                "id": {"type": "string"},
                "parent_id": _NULLABLE_STRING,
                "role": _NULLABLE_STRING,
                "text": {"type": "string"},
                "create_time": _TIME,
                "model": {
                    **_NULLABLE_STRING,
                    "description": "The model that wrote an answer.",
                },
                "on_current_branch": {"type": "boolean"},
            }
        ),
        **_PAGING,
        "note": _NULLABLE_STRING,
    }
)

LIST_CONVERSATIONS_INPUT = _object(
    {
        "provider": {"type": "string"},  # described by tool_definitions
        "since": _SINCE,
        "until": _UNTIL,
        "title": {"type": "string", "description": "A part of the title (any case)."},
        "limit": _limit(LIST_LIMIT, "conversations"),
        "offset": _OFFSET,
    }
)

LIST_CONVERSATIONS_OUTPUT = _object(
    {
        "conversations": _list_of({**_CONVERSATION, "message_count": {"type": "integer"}}),
        "limit": {"type": "integer"},
        **_PAGING,
    }
)


def tool_definitions(providers: tuple[str, ...]) -> list[dict[str, Any]]:
    """name, title, description, inputSchema, outputSchema of each tool, in the order listed;
    ``providers`` are the names a ``provider`` argument takes (the registry's, from the caller)."""
    names = ", ".join(providers)

    def with_provider(schema: dict[str, Any]) -> dict[str, Any]:
        return {**schema, "properties": {**schema["properties"], "provider": _provider(providers)}}

    return [
        {
            "name": "search",
            "title": "Search the chat archive",
            "description": SEARCH_DESCRIPTION.replace("{providers}", names),
            "input_schema": with_provider(SEARCH_INPUT),
            "output_schema": SEARCH_OUTPUT,
        },
        {
            "name": "get_conversation",
            "title": "Read an archived conversation",
            "description": GET_CONVERSATION_DESCRIPTION,
            "input_schema": GET_CONVERSATION_INPUT,
            "output_schema": GET_CONVERSATION_OUTPUT,
        },
        {
            "name": "list_conversations",
            "title": "List archived conversations",
            "description": LIST_CONVERSATIONS_DESCRIPTION.replace("{providers}", names),
            "input_schema": with_provider(LIST_CONVERSATIONS_INPUT),
            "output_schema": LIST_CONVERSATIONS_OUTPUT,
        },
    ]
