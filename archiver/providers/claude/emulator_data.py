"""The emulator's claude.ai account, generated: a pure function of the seed and an index, so
the same seed serves the same account (docs/protocol/claude.md for the shapes).

Conversation ``i`` is a tree: a first prompt and its answer, then turns; some have a
regenerated answer (a sibling assistant message), some an edited prompt (a sibling human
message under the same parent) with its own answers, and the current leaf is not always the
newest branch. Answers hold thinking, tool calls with their results, artifacts (created, then
updated in a later turn), citations; prompts hold pasted text (blank names included) and
uploaded images (listed in ``files`` and ``files_v2`` alike)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from archiver.fakes.data import (
    EPOCH_START,
    answer_text,
    paragraph,
    sentence,
    stable_uuid,
    title_for,
)
from archiver.loosejson import Json

ROOT = "00000000-0000-4000-8000-000000000000"
MODEL = "claude-sonnet-4-5-20250929"


def iso(ts: float, zulu: bool = True) -> str:
    """Both spellings claude.ai uses: ``...123456Z`` and ``...123456+00:00``."""
    text = datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z") if zulu else text


def file_bytes(seed: int, file_uuid: str, variant: str) -> bytes:
    """A file's bytes: a PNG signature and a body fixed by its uuid (the thumbnail differs)."""
    rng = random.Random(f"{seed}:file:{file_uuid}:{variant}")
    size = 64 if variant == "thumbnail" else rng.randint(2_000, 9_000)
    return b"\x89PNG\r\n\x1a\n" + rng.randbytes(size)


@dataclass
class Chat:
    uuid: str
    name: str
    created: float
    updated: float
    index: int | None  # None: created through the API
    project: str | None = None
    starred: bool = False
    archived: bool = False
    deleted: bool = False
    messages: list[Json] | None = None  # built on first use for generated chats
    current_leaf: str | None = None
    model: str = MODEL

    def entry(self, zulu: bool = True) -> Json:
        """The list entry."""
        return {
            "uuid": self.uuid,
            "name": self.name,
            "summary": "",
            "model": self.model,
            "created_at": iso(self.created, zulu),
            "updated_at": iso(self.updated, zulu),
            "settings": {"preview_feature_uses_artifacts": True},
            "is_starred": self.starred,
            "is_temporary": False,
            "is_archived": self.archived,
            "project_uuid": self.project,
            "project": {"uuid": self.project, "name": "project"} if self.project else None,
            "current_leaf_message_uuid": self.current_leaf,
        }


@dataclass
class Builder:
    """Messages of one generated conversation, in creation order."""

    seed: int
    chat: str
    clock: float
    messages: list[Json] = field(default_factory=list)

    def _uuid(self) -> str:
        return stable_uuid(self.seed, "claude-message", self.chat, len(self.messages))

    def _message(self, sender: str, parent: str, content: list[Json], **extra: Any) -> Json:
        self.clock += 37.5
        message = {
            "uuid": self._uuid(),
            "text": "",
            "content": content,
            "sender": sender,
            "index": len(self.messages),
            "created_at": iso(self.clock),
            "updated_at": iso(self.clock),
            "truncated": False,
            "attachments": [],
            "files": [],
            "files_v2": [],
            "sync_sources": [],
            "parent_message_uuid": parent,
            **extra,
        }
        self.messages.append(message)
        return message

    def human(self, parent: str, text: str, **extra: Any) -> Json:
        return self._message("human", parent, [_text(text, self.clock)], **extra)

    def assistant(self, parent: str, blocks: list[Json]) -> Json:
        return self._message("assistant", parent, blocks, stop_reason="stop_sequence")


def _text(text: str, at: float, citations: list[Json] | None = None) -> Json:
    return {
        "start_timestamp": iso(at),
        "stop_timestamp": iso(at + 2),
        "flags": None,
        "type": "text",
        "text": text,
        "citations": citations or [],
    }


def _thinking(rng: random.Random, at: float) -> Json:
    return {
        "start_timestamp": iso(at),
        "stop_timestamp": iso(at + 1),
        "type": "thinking",
        "thinking": "Let me think. " + sentence(rng),
        "summaries": [{"summary": "Thinking about the question."}],
        "cut_off": False,
    }


def _tool(rng: random.Random, at: float, index: int) -> list[Json]:
    tool_id = f"toolu_{stable_uuid('tool', index, at)[:12]}"
    query = sentence(rng, 2, 4).rstrip(".")
    return [
        {
            "start_timestamp": iso(at),
            "stop_timestamp": iso(at + 1),
            "type": "tool_use",
            "id": tool_id,
            "name": "web_search",
            "input": {"query": query},
            "message": "Searching the web",
            "integration_name": None,
            "display_content": None,
        },
        {
            "start_timestamp": iso(at + 1),
            "stop_timestamp": iso(at + 2),
            "type": "tool_result",
            "tool_use_id": tool_id,
            "name": "web_search",
            "content": [
                {"type": "text", "text": f"Result about {query}", "uuid": stable_uuid(tool_id)}
            ],
            "is_error": False,
        },
    ]


def _artifact(ident: str, command: str, **fields: Any) -> Json:
    return {
        "type": "tool_use",
        "id": f"toolu_{stable_uuid(ident, command)[:12]}",
        "name": "artifacts",
        "input": {"id": ident, "command": command, **fields},
    }


def _image(seed: int, org: str, chat: str, n: int, at: float) -> Json:
    file_uuid = stable_uuid(seed, "claude-file", chat, n)
    return {
        "file_kind": "image",
        "file_uuid": file_uuid,
        "file_name": f"photo-{n}.png",
        "created_at": iso(at),
        "thumbnail_url": f"/api/{org}/files/{file_uuid}/thumbnail",
        "preview_url": f"/api/{org}/files/{file_uuid}/preview",
        "thumbnail_asset": {
            "url": f"/api/{org}/files/{file_uuid}/thumbnail",
            "file_variant": "thumbnail",
            "image_width": 64,
            "image_height": 64,
        },
        "preview_asset": {
            "url": f"/api/{org}/files/{file_uuid}/preview",
            "file_variant": "preview",
            "image_width": 800,
            "image_height": 600,
        },
    }


def chat_summary(seed: int, index: int, projects: list[str]) -> Chat:
    rng = random.Random(f"{seed}:claude:{index}")
    created = EPOCH_START + 400 * 86_400 + index * 5_000 + rng.uniform(0, 4_000)
    project = projects[(index // 4) % len(projects)] if projects and index % 4 == 1 else None
    return Chat(
        uuid=stable_uuid(seed, "claude-chat", index),
        name=title_for(rng),
        created=created,
        updated=created + 1_000 + rng.uniform(0, 2_000),
        index=index,
        project=project,
        starred=index % 5 == 2,
        archived=index % 7 == 3,
    )


def chat_messages(seed: int, org: str, chat: Chat) -> tuple[list[Json], str]:
    """The tree of generated conversation ``chat`` (in organization ``org``: its file URLs
    name it) and its current leaf."""
    assert chat.index is not None
    i = chat.index
    rng = random.Random(f"{seed}:claude-tree:{i}")
    b = Builder(seed, chat.uuid, chat.created)
    extra: dict[str, Any] = {}
    if i % 3 == 0:  # pasted text, two of them with blank names
        extra["attachments"] = [
            {
                "file_name": "",
                "file_size": 40,
                "file_type": "txt",
                "extracted_content": "pasted one: " + sentence(rng),
            },
            {
                "file_name": "",
                "file_size": 41,
                "file_type": "txt",
                "extracted_content": "pasted two: " + sentence(rng),
            },
        ]
    if i % 4 == 0:  # an uploaded image, listed twice
        image = _image(seed, org, chat.uuid, 0, b.clock)
        extra["files"] = [image]
        extra["files_v2"] = [image]
    first = b.human(ROOT, f"{chat.name}: " + sentence(rng), **extra)
    blocks = [_thinking(rng, b.clock)]
    if i % 2 == 0:
        blocks += _tool(rng, b.clock, i)
    if i % 5 == 0:
        blocks.append(
            _artifact(
                f"doc-{i}",
                "create",
                type="text/markdown",
                title=f"Notes {i}",
                content=f"# Notes {i}\n\nfirst draft\n",
            )
        )
    blocks.append(_text(paragraph(rng, 2), b.clock, _citations(rng) if i % 2 else None))
    answer = b.assistant(first["uuid"], blocks)
    leaf = answer
    if i % 3 == 1:  # a regenerated answer: a sibling under the same prompt
        regenerated = b.assistant(
            first["uuid"], [_text("Another take: " + paragraph(rng, 1), b.clock)]
        )
        leaf = regenerated if i % 2 else answer  # the user went back to the first one
    turns = 1 + i % 3
    for turn in range(turns):
        asked = b.human(leaf["uuid"], sentence(rng))
        reply_blocks = [_text(paragraph(rng, 2), b.clock)]
        if i % 5 == 0 and turn == 0:
            reply_blocks.insert(
                0, _artifact(f"doc-{i}", "update", old_str="first draft", new_str="second draft")
            )
        leaf = b.assistant(asked["uuid"], reply_blocks)
    if i % 4 == 2:  # the first prompt edited: a sibling human message with its own answer
        edited = b.human(ROOT, "Edited: " + sentence(rng))
        other = b.assistant(edited["uuid"], [_text(paragraph(rng, 1), b.clock)])
        if i % 8 == 2:
            leaf = other
    return b.messages, str(leaf["uuid"])


def _citations(rng: random.Random) -> list[Json]:
    n = rng.randint(1, 99)
    return [
        {
            "uuid": stable_uuid("citation", n),
            "title": f"Source {n}",
            "url": f"https://example.org/source/{n}",
        }
    ]


def project(seed: int, index: int) -> Json:
    at = EPOCH_START + 390 * 86_400 + index * 3_600
    uuid = stable_uuid(seed, "claude-project", index)
    return {
        "uuid": uuid,
        "name": f"Project {index}",
        "description": f"Everything about project {index}",
        "is_private": True,
        "is_starter_project": index == 0,
        "prompt_template": f"Answer like a careful editor (project {index}).",
        "created_at": iso(at),
        "updated_at": iso(at + 60),
        "archived_at": None,
        "docs_count": 1,
        "files_count": 0,
        "creator": {"uuid": stable_uuid(seed, "claude-user"), "full_name": "Emulated User"},
    }


def project_docs(seed: int, project_uuid: str) -> list[Json]:
    rng = random.Random(f"{seed}:docs:{project_uuid}")
    return [
        {
            "uuid": stable_uuid(seed, "claude-doc", project_uuid),
            "file_name": "style-guide.md",
            "content": "Style guide: " + paragraph(rng, 2),
            "created_at": iso(EPOCH_START + 391 * 86_400),
        }
    ]


def answer_for(prompt: str) -> str:
    """What the emulator answers ``prompt``: the same text for the same prompt."""
    return answer_text(prompt)


__all__ = ["Chat", "answer_for", "chat_messages", "chat_summary", "file_bytes", "iso", "project"]
