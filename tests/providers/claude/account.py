"""A claude.ai account, written by hand from the documented wire shapes (PROTOCOL.md §6, the
"Claude.ai Internal API Reference", agentsview's fixtures, the export specs), never from
archiver's own flattener: what the independent fake serves and what the tests expect.

Two organizations (an API-console one listed first), two projects (one with documents and
instructions, the starter project), five conversations:

- LISBON: a tree. The first prompt has two pasted texts with blank names and an image listed
  in ``files`` and ``files_v2`` alike. Its answer has thinking, a web search (tool_use,
  tool_result) and two text blocks with a citation; the answer was regenerated (a sibling the
  user left); the first prompt was edited (a newer sibling branch, also left). The current
  branch goes on through an artifact created, then updated. ``chat_messages`` are shuffled.
- TILES (in the project, not starred): a PDF (``files_v2`` only) and an image that is gone
  upstream (``files`` only); hidden thinking (summaries only).
- OLD (archived): older messages with only the flat ``text``.
- EMPTY: a new chat without messages.
- REPL (in the project): the flat ``text`` holds the placeholder for a tool block.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]
ROOT = "00000000-0000-4000-8000-000000000000"
ORG_API = "11111111-1111-4111-8111-111111111112"
ORG = "11111111-1111-4111-8111-111111111111"
SESSION_KEY = "sk-ant-sid01-TESTONLY-4f1c9e2b7a6d5c3e1f0a9b8c7d6e5f4a"
PLACEHOLDER = "```\nThis block is not supported on your current device yet.\n```"

PROJECT = "22222222-2222-4222-8222-000000000001"
STARTER = "22222222-2222-4222-8222-000000000002"

LISBON = "0199c001-0000-7000-8000-00000000000a"
TILES = "0199c001-0000-7000-8000-00000000000b"
OLD = "0199c001-0000-7000-8000-00000000000c"
EMPTY = "0199c001-0000-7000-8000-00000000000d"
REPL = "0199c001-0000-7000-8000-00000000000e"

IMAGE = "33333333-3333-4333-8333-00000000000a"  # LISBON's photo
PDF = "33333333-3333-4333-8333-00000000000b"  # TILES' quote
GONE = "33333333-3333-4333-8333-00000000000c"  # TILES' photo, deleted upstream

FILE_BYTES = {
    (IMAGE, "preview"): b"\x89PNG\r\n\x1a\npreview of the Lisbon photo " + bytes(range(64)),
    (IMAGE, "thumbnail"): b"\x89PNG\r\n\x1a\nsmall thumbnail",
    (PDF, "document_pdf"): b"%PDF-1.7\nquote for 40 m2 of porcelain tiles\n%%EOF\n",
    (PDF, "thumbnail"): b"\x89PNG\r\n\x1a\npdf thumbnail",
}


def message(
    uuid: str, sender: str, parent: str, at: str, content: list[Json] | None, **extra: Any
) -> Json:
    """A message as ``?tree=True&rendering_mode=messages`` serves it."""
    body: Json = {
        "uuid": uuid,
        "text": "",
        "sender": sender,
        "index": 0,
        "created_at": at,
        "updated_at": at,
        "truncated": False,
        "attachments": [],
        "files": [],
        "files_v2": [],
        "sync_sources": [],
        "parent_message_uuid": parent,
    }
    if content is not None:
        body["content"] = content
    body.update(extra)
    return body


def text(value: str, citations: list[Json] | None = None) -> Json:
    return {
        "start_timestamp": "2026-03-01T10:00:00.000000Z",
        "stop_timestamp": "2026-03-01T10:00:01.000000Z",
        "flags": None,
        "type": "text",
        "text": value,
        "citations": citations or [],
    }


def image_file(uuid: str, name: str) -> Json:
    return {
        "file_kind": "image",
        "file_uuid": uuid,
        "file_name": name,
        "created_at": "2026-03-01T10:00:00.000000+00:00",
        "thumbnail_url": f"/api/{ORG}/files/{uuid}/thumbnail",
        "preview_url": f"/api/{ORG}/files/{uuid}/preview",
        "thumbnail_asset": {
            "url": f"/api/{ORG}/files/{uuid}/thumbnail",
            "file_variant": "thumbnail",
            "primary_color": "060606",
            "image_width": 64,
            "image_height": 48,
        },
        "preview_asset": {
            "url": f"/api/{ORG}/files/{uuid}/preview",
            "file_variant": "preview",
            "primary_color": "060606",
            "image_width": 800,
            "image_height": 600,
        },
    }


# --- LISBON: the tree ----------------------------------------------------------------------

L_H1 = "0199c001-1000-7000-8000-000000000001"
L_A1 = "0199c001-1000-7000-8000-000000000002"
L_A1B = "0199c001-1000-7000-8000-000000000003"  # regenerated answer, left
L_H2 = "0199c001-1000-7000-8000-000000000004"
L_A2 = "0199c001-1000-7000-8000-000000000005"
L_H3 = "0199c001-1000-7000-8000-000000000006"
L_A3 = "0199c001-1000-7000-8000-000000000007"
L_H1E = "0199c001-1000-7000-8000-000000000008"  # the first prompt edited, newest, left
L_A1E = "0199c001-1000-7000-8000-000000000009"

LISBON_PASTED = ["Flights land Friday at 09:00", "Budget: 600 EUR for everything"]
LISBON_THINKING = "The user wants a cheap weekend; check what is on first."
LISBON_ARTIFACT_V1 = "# Itinerary\n\nFriday: Alfama\n"
LISBON_ARTIFACT_V2 = "# Itinerary\n\nFriday: Alfama\nSunday: Cascais\n"

_lisbon = [
    message(
        L_H1,
        "human",
        ROOT,
        "2026-03-01T10:00:00.000000Z",
        [text("Plan a weekend in Lisbon")],
        attachments=[
            {
                "file_name": "",
                "file_size": 28,
                "file_type": "txt",
                "extracted_content": LISBON_PASTED[0],
            },
            {
                "file_name": "",
                "file_size": 30,
                "file_type": "txt",
                "extracted_content": LISBON_PASTED[1],
            },
        ],
        files=[image_file(IMAGE, "tram.png")],
        files_v2=[image_file(IMAGE, "tram.png")],
    ),
    message(
        L_A1,
        "assistant",
        L_H1,
        "2026-03-01T10:00:10.000000Z",
        [
            {
                "start_timestamp": "2026-03-01T10:00:02.000000Z",
                "stop_timestamp": "2026-03-01T10:00:04.000000Z",
                "flags": None,
                "type": "thinking",
                "thinking": LISBON_THINKING,
                "summaries": [{"summary": "Planning a Lisbon weekend"}],
                "cut_off": False,
                "truncated": False,
                "alternative_display_type": None,
                "signature": "EqoBCkgIBxABGAIiQ",
            },
            {
                "start_timestamp": "2026-03-01T10:00:04.000000Z",
                "stop_timestamp": "2026-03-01T10:00:05.000000Z",
                "flags": None,
                "type": "tool_use",
                "id": "toolu_01LisbonSearch",
                "name": "web_search",
                "input": {"query": "Lisbon events this weekend"},
                "message": "Searching the web",
                "integration_name": None,
                "icon_name": "globe",
                "display_content": None,
                "approval_options": None,
                "approval_key": None,
                "is_mcp_app": False,
            },
            {
                "start_timestamp": "2026-03-01T10:00:05.000000Z",
                "stop_timestamp": "2026-03-01T10:00:06.000000Z",
                "flags": None,
                "type": "tool_result",
                "tool_use_id": "toolu_01LisbonSearch",
                "name": "web_search",
                "content": [
                    {
                        "type": "text",
                        "text": "Fado night in Alfama on Friday",
                        "uuid": "44444444-4444-4444-8444-000000000001",
                    }
                ],
                "is_error": False,
                "structured_content": None,
                "meta": None,
                "display_content": None,
            },
            text(
                "Friday: a fado night in Alfama.",
                [
                    {
                        "uuid": "55555555-5555-4555-8555-000000000001",
                        "title": "Fado in Alfama",
                        "url": "https://example.org/fado",
                        "start_index": 0,
                        "end_index": 10,
                    }
                ],
            ),
            text("Saturday: Belém and pastéis."),
        ],
        stop_reason="stop_sequence",
    ),
    message(
        L_A1B,
        "assistant",
        L_H1,
        "2026-03-01T10:00:20.000000Z",
        [text("Or spend Saturday in Sintra.")],
        stop_reason="stop_sequence",
    ),
    message(L_H2, "human", L_A1, "2026-03-01T10:00:30.000000Z", [text("Make it cheaper")]),
    message(
        L_A2,
        "assistant",
        L_H2,
        "2026-03-01T10:00:40.000000Z",
        [
            {
                "type": "tool_use",
                "id": "toolu_01Itinerary",
                "name": "artifacts",
                "input": {
                    "id": "itinerary",
                    "type": "text/markdown",
                    "title": "Itinerary",
                    "command": "create",
                    "content": LISBON_ARTIFACT_V1,
                    "version_uuid": "66666666-6666-4666-8666-000000000001",
                },
            },
            {
                "type": "tool_result",
                "tool_use_id": "toolu_01Itinerary",
                "name": "artifacts",
                "content": [{"type": "text", "text": "OK"}],
                "is_error": False,
            },
            text("I drafted a free itinerary."),
        ],
        stop_reason="stop_sequence",
    ),
    message(L_H3, "human", L_A2, "2026-03-01T10:00:50.000000Z", [text("Add Sunday")]),
    message(
        L_A3,
        "assistant",
        L_H3,
        "2026-03-01T10:01:00.000000Z",
        [
            {
                "type": "tool_use",
                "id": "toolu_02Itinerary",
                "name": "artifacts",
                "input": {
                    "id": "itinerary",
                    "command": "update",
                    "old_str": "Friday: Alfama\n",
                    "new_str": "Friday: Alfama\nSunday: Cascais\n",
                    "version_uuid": "66666666-6666-4666-8666-000000000002",
                },
            },
            text("Added Sunday by the sea."),
        ],
        stop_reason="stop_sequence",
    ),
    message(L_H1E, "human", ROOT, "2026-03-01T10:01:10.000000Z", [text("Plan a weekend in Porto")]),
    message(
        L_A1E,
        "assistant",
        L_H1E,
        "2026-03-01T10:01:20.000000Z",
        [text("Porto: Ribeira and the port cellars.")],
        stop_reason="stop_sequence",
    ),
]
# The current branch, root first, and every message's expected searchable text.
LISBON_BRANCH = [L_H1, L_A1, L_H2, L_A2, L_H3, L_A3]
LISBON_TEXTS = {
    L_H1: "Plan a weekend in Lisbon",
    L_A1: "Friday: a fado night in Alfama.\n\nSaturday: Belém and pastéis.",
    L_A1B: "Or spend Saturday in Sintra.",
    L_H2: "Make it cheaper",
    L_A2: "I drafted a free itinerary.",
    L_H3: "Add Sunday",
    L_A3: "Added Sunday by the sea.",
    L_H1E: "Plan a weekend in Porto",
    L_A1E: "Porto: Ribeira and the port cellars.",
}
LISBON_PARENTS = {
    L_H1: None,
    L_A1: L_H1,
    L_A1B: L_H1,
    L_H2: L_A1,
    L_A2: L_H2,
    L_H3: L_A2,
    L_A3: L_H3,
    L_H1E: None,
    L_A1E: L_H1E,
}
_shuffled = [6, 0, 8, 4, 3, 2, 7, 1, 5]  # chat_messages order is no tree order

# --- TILES, OLD, EMPTY, REPL --------------------------------------------------------------

T_H1 = "0199c001-2000-7000-8000-000000000001"
T_A1 = "0199c001-2000-7000-8000-000000000002"
O_H1 = "0199c001-3000-7000-8000-000000000001"
O_A1 = "0199c001-3000-7000-8000-000000000002"
R_H1 = "0199c001-5000-7000-8000-000000000001"
R_A1 = "0199c001-5000-7000-8000-000000000002"

_tiles = [
    message(
        T_H1,
        "human",
        ROOT,
        "2026-02-10T08:00:00.000000+00:00",
        [text("Which tiles fit this quote?")],
        files=[image_file(GONE, "kitchen.jpg")],
        files_v2=[
            {
                "file_kind": "document",
                "file_uuid": PDF,
                "file_name": "quote.pdf",
                "created_at": "2026-02-10T08:00:00.000000+00:00",
                "thumbnail_url": f"/api/{ORG}/files/{PDF}/thumbnail",
                "document_asset": {
                    "url": f"/api/{ORG}/files/{PDF}/document_pdf",
                    "file_variant": "document_pdf",
                },
            }
        ],
    ),
    message(
        T_A1,
        "assistant",
        T_H1,
        "2026-02-10T08:00:30.000000+00:00",
        [
            {
                "type": "thinking",
                "thinking": "",
                "summaries": [{"summary": "Comparing tile prices"}],
                "hidden": True,
                "thinking_hidden": True,
            },
            text("Porcelain tiles fit the budget."),
        ],
        stop_reason="stop_sequence",
    ),
]
_old = [
    message(O_H1, "human", ROOT, "2024-05-02T12:00:00.000000Z", None, text="Hello there"),
    message(
        O_A1,
        "assistant",
        O_H1,
        "2024-05-02T12:00:05.000000Z",
        None,
        text="Hi! How can I help?",
        stop_reason="stop_sequence",
    ),
]
_repl = [
    message(
        R_H1, "human", ROOT, "2026-02-20T09:00:00.000000Z", [text("What is 1+1? Use the REPL")]
    ),
    message(
        R_A1,
        "assistant",
        R_H1,
        "2026-02-20T09:00:09.000000Z",
        [
            {"type": "tool_use", "id": "toolu_03Repl", "name": "repl", "input": {"code": "1+1"}},
            {
                "type": "tool_result",
                "tool_use_id": "toolu_03Repl",
                "name": "repl",
                "content": [{"type": "text", "text": "2"}],
                "is_error": False,
            },
            text("The answer is 2."),
        ],
        text=PLACEHOLDER + "\n\nThe answer is 2.",
        stop_reason="stop_sequence",
    ),
]


def conversation(
    uuid: str,
    name: str,
    created: str,
    updated: str,
    messages: list[Json],
    leaf: str | None,
    *,
    model: str = "claude-sonnet-4-5-20250929",
    project: str | None = None,
    starred: bool = False,
    archived: bool = False,
) -> Json:
    return {
        "uuid": uuid,
        "name": name,
        "summary": "",
        "model": model,
        "created_at": created,
        "updated_at": updated,
        "settings": {"enabled_web_search": True, "preview_feature_uses_artifacts": True},
        "is_starred": starred,
        "is_temporary": False,
        "is_archived": archived,
        "platform": "CLAUDE_AI",
        "project_uuid": project,
        "project": {"uuid": project, "name": "Kitchen renovation"} if project else None,
        "current_leaf_message_uuid": leaf,
        "chat_messages": messages,
    }


def conversations() -> dict[str, Json]:
    """uuid → the ``?tree=True`` detail, freshly copied (the fake mutates its own)."""
    found = [
        conversation(
            LISBON,
            "Lisbon weekend",
            "2026-03-01T10:00:00.000000Z",
            "2026-03-01T10:01:20.654321Z",
            [_lisbon[i] for i in _shuffled],
            L_A3,
            starred=True,
        ),
        conversation(
            TILES,
            "Kitchen tiles",
            "2026-02-10T08:00:00.000000+00:00",
            "2026-02-10T08:00:30.123456+00:00",
            _tiles,
            T_A1,
            project=PROJECT,
        ),
        conversation(
            OLD,
            "Hello",
            "2024-05-02T12:00:00.000000Z",
            "2024-05-02T12:00:05.000000Z",
            _old,
            O_A1,
            model="claude-3-opus-20240229",
            archived=True,
        ),
        conversation(
            EMPTY, "", "2026-03-02T07:00:00.000000Z", "2026-03-02T07:00:00.000000Z", [], None
        ),
        conversation(
            REPL,
            "REPL arithmetic",
            "2026-02-20T09:00:00.000000Z",
            "2026-02-20T09:00:09.000000Z",
            _repl,
            R_A1,
            project=PROJECT,
        ),
    ]
    return {c["uuid"]: copy.deepcopy(c) for c in found}


PROJECTS: list[Json] = [
    {
        "uuid": PROJECT,
        "name": "Kitchen renovation",
        "description": "Tiles, cabinets and the budget",
        "is_private": True,
        "is_starter_project": False,
        "prompt_template": "Be frugal and cite prices.",
        "created_at": "2026-02-01T09:00:00.000000Z",
        "updated_at": "2026-02-09T09:00:00.000000Z",
        "creator": {"uuid": "77777777-7777-4777-8777-000000000001", "full_name": "Ana Test"},
        "archived_at": None,
        "docs_count": 2,
        "files_count": 0,
    },
    {
        "uuid": STARTER,
        "name": "How to use Claude",
        "description": "An example project",
        "is_private": False,
        "is_starter_project": True,
        "prompt_template": "",
        "created_at": "2026-01-01T09:00:00.000000Z",
        "updated_at": "2026-01-01T09:00:00.000000Z",
        "creator": {"uuid": "77777777-7777-4777-8777-000000000001", "full_name": "Ana Test"},
        "archived_at": None,
        "docs_count": 0,
        "files_count": 0,
    },
]
DOCS: dict[str, list[Json]] = {
    PROJECT: [
        {
            "uuid": "88888888-8888-4888-8888-000000000001",
            "file_name": "budget.md",
            "content": "Total budget 4200 EUR; tiles at most 900 EUR.",
            "created_at": "2026-02-01T09:05:00.000000Z",
        },
        {
            "uuid": "88888888-8888-4888-8888-000000000002",
            "file_name": "contractors.txt",
            "content": "Marta the tiler answers on weekdays.",
            "created_at": "2026-02-01T09:06:00.000000Z",
        },
    ],
    STARTER: [],
}
ORGANIZATIONS: list[Json] = [
    {
        "uuid": ORG_API,
        "name": "Ana's API console",
        "capabilities": ["api"],
        "settings": {},
        "active_flags": [],
        "raven_type": None,
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
    },
    {
        "uuid": ORG,
        "name": "Ana's personal",
        "capabilities": ["chat", "claude_pro"],
        "settings": {},
        "active_flags": [],
        "raven_type": None,
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
    },
]
MEMORIES: list[Json] = [
    {
        "conversations_memory": "Ana lives in Lisbon and renovates her kitchen on a budget.",
        "project_memories": {PROJECT: "Marta is the preferred tiler."},
        "account_uuid": "77777777-7777-4777-8777-000000000001",
    }
]
USERS: list[Json] = [
    {
        "uuid": "77777777-7777-4777-8777-000000000001",
        "full_name": "Ana Test",
        "email_address": "ana@example.org",
        "verified_phone_number": None,
    }
]


def current_branch(detail: Json) -> list[Json]:
    """The messages from the root to ``current_leaf_message_uuid``, root first."""
    by_id = {m["uuid"]: m for m in detail["chat_messages"]}
    branch: list[Json] = []
    node = by_id.get(detail["current_leaf_message_uuid"] or "")
    while node is not None:
        branch.append(node)
        node = by_id.get(node["parent_message_uuid"])
    return list(reversed(branch))


def export_conversation(detail: Json) -> Json:
    """The data export's copy, as the export specs describe it: no parent pointers, no
    current leaf, no project link; the branch the user saw, in order; files by name only; the
    flat ``text`` a rendering with placeholders for blocks it cannot show."""
    out = []
    for m in current_branch(detail):
        content = m.get("content")
        flat = m.get("text") or ""
        if isinstance(content, list):
            parts = [
                b["text"] if b["type"] == "text" else PLACEHOLDER
                for b in content
                if b["type"] in ("text", "tool_use", "tool_result")
            ]
            flat = "\n\n".join(parts)
        entry: Json = {
            "uuid": m["uuid"],
            "text": flat,
            "sender": m["sender"],
            "created_at": m["created_at"],
            "updated_at": m["updated_at"],
            "attachments": m["attachments"],
            "files": [{"file_name": f["file_name"]} for f in m["files"] + m["files_v2"]],
        }
        if isinstance(content, list):
            entry["content"] = content
        out.append(entry)
    return {
        "uuid": detail["uuid"],
        "name": detail["name"],
        "summary": detail["summary"],
        "created_at": detail["created_at"],
        "updated_at": detail["updated_at"],
        "account": {"uuid": "77777777-7777-4777-8777-000000000001"},
        "chat_messages": out,
    }


def export_project(project: Json) -> Json:
    docs = [
        {
            "uuid": d["uuid"],
            "filename": d["file_name"],
            "content": d["content"],
            "created_at": d["created_at"],
        }
        for d in DOCS[project["uuid"]]
    ]
    return {
        **{k: v for k, v in project.items() if k not in ("docs_count", "files_count")},
        "docs": docs,
    }


@dataclass
class Account:
    """The fake's world: what it serves, and what it was asked."""

    details: dict[str, Json] = field(default_factory=conversations)
    projects: list[Json] = field(default_factory=lambda: copy.deepcopy(PROJECTS))
    docs: dict[str, list[Json]] = field(default_factory=lambda: copy.deepcopy(DOCS))
    organizations: list[Json] = field(default_factory=lambda: copy.deepcopy(ORGANIZATIONS))
    deleted: set[str] = field(default_factory=set)
