"""Synthetic ChatGPT conversations: cheap summaries for the list, full ``mapping`` trees on demand.

Rare shapes (every root variant, every content type, edit/regenerate/continue branches, hidden
nodes, node ids that differ from message ids) are assigned by ``index`` modulo small numbers, so
any set of a few dozen conversations contains all of them whatever the seed; randomness only
decides the ordinary parts (text, sizes, times).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archiver.fakes import data
from archiver.providers.chatgpt.fake import turns

ROOT_VARIANTS = ("bare", "nulls", "client-created-root")
MODELS = ("text-davinci-002-render-sha", "gpt-4", "gpt-4o", "gpt-4o-mini", "o1-preview", "o3")


@dataclass
class ListedChat:
    """What the list endpoint shows of a chat: a generated summary, and then the emulator's
    mutable record of it (world.py ChatRecord), carry these fields."""

    id: str
    title: str | None
    create_time: float
    update_time: float
    is_archived: bool
    shared: bool
    time_form: int  # which ISO spelling the list uses for this item (see iso_time)


@dataclass
class Summary(ListedChat):
    """What the list endpoint needs, computed without building the tree."""

    index: int
    model: str


def summary(index: int, *, seed: int = 0) -> Summary:
    rng = random.Random(f"{seed}:{index}:summary")
    create = data.EPOCH_START + index * 50_000 + rng.uniform(0, 45_000)  # ~14 h apart
    update = create + rng.expovariate(1 / 20_000) + 60
    form = index % 4
    if form == 3:  # this spelling drops the fraction, so the detail does too
        update = float(int(update))
    return Summary(
        index=index,
        id=data.stable_uuid(seed, "conversation", index),
        title=None if index % 17 == 5 else data.title_for(rng),
        create_time=create,
        update_time=update,
        is_archived=index % 10 == 7,
        shared=index % 8 == 3,
        time_form=form,
        model=MODELS[min(len(MODELS) - 1, index * len(MODELS) // 1000 + rng.randint(0, 1))],
    )


PROJECT_NAMES = ("Thesis", "House move", "Garden", "Tax 2026", "Novel", "Job search")


def project(index: int, *, seed: int = 0) -> dict[str, Any]:
    """One Project ("snorlax" gizmo) as the sidebar nests it: ``g-p-`` and 32 hex digits."""
    ident = "g-p-" + data.stable_uuid(seed, "project", index).replace("-", "")
    name = PROJECT_NAMES[index % len(PROJECT_NAMES)]
    return {
        "id": ident,
        "organization_id": None,
        "short_url": f"{ident}-{name.lower().replace(' ', '-')}",
        "gizmo_type": "snorlax",
        "display": {
            "name": name,
            "description": f"Everything about {name.lower()}",
            "emoji": ("📚", "🏠", "🌱", "🧾", "✍️", "💼")[index % 6],
            "theme": None,
        },
        "instructions": "",
        "created_at": data.EPOCH_START + index * 86_400,
        "updated_at": data.EPOCH_START + index * 86_400,
    }


def conversation(index: int, *, seed: int = 0, mean_nodes: int = 12) -> dict[str, Any]:
    """The ``GET conversation/{id}`` body for one generated conversation (no ``id`` field)."""
    s = summary(index, seed=seed)
    rng = random.Random(f"{seed}:{index}")
    tree = turns.TreeBuilder(
        rng,
        start=s.create_time,
        end=s.update_time,
        model=s.model,
        split_ids=index % 6 == 4,
        null_times=index % 3 == 0,
    )
    root = tree.add_root(ROOT_VARIANTS[index % 3])
    parent = tree.add_system(root)
    if index % 5 == 2 or rng.random() < 0.1:
        parent = tree.add_user_context(parent)
    target = max(4, round(mean_nodes * rng.uniform(0.5, 1.5)))
    forced = [turns.KINDS[index % len(turns.KINDS)]]
    branch_kinds = [
        b for b, m in (("edit", 1), ("regenerate", 2), ("continue", 3)) if index % 4 == m
    ]
    turn = 0
    while len(tree.mapping) < target or forced or branch_kinds:
        kind = forced.pop() if forced else rng.choice(turns.COMMON_KINDS)
        branch = branch_kinds.pop() if branch_kinds else None
        if branch is None and rng.random() < 0.08:
            branch = rng.choice(("edit", "regenerate", "continue"))
        parent = tree.add_turn(parent, kind, branch=branch, turn=turn)
        turn += 1
    body: dict[str, Any] = {
        "title": s.title,
        "create_time": s.create_time,
        "update_time": s.update_time,
        "mapping": tree.mapping,
        "moderation_results": [],
        "current_node": parent,
        "plugin_ids": None,
        "conversation_id": s.id,
        "conversation_template_id": None,
        "gizmo_id": None,
        "is_archived": s.is_archived,
        "safe_urls": [],
        "default_model_slug": s.model,
    }
    if index % 2 == 1:  # newer responses carry more fields
        body.update(
            is_starred=None,
            gizmo_type=None,
            memory_scope="global_enabled",
            is_temporary_chat=False,
            async_status=None,
            disabled_tool_ids=[],
            blocked_urls=[],
            conversation_origin=None,
        )
    return body


def export_conversation(index: int, *, seed: int = 0, mean_nodes: int = 12) -> dict[str, Any]:
    """The same conversation as the official export writes it: with an ``id`` field."""
    body = conversation(index, seed=seed, mean_nodes=mean_nodes)
    return {"id": body["conversation_id"], **body}


def export_conversations(
    count: int, *, seed: int = 0, mean_nodes: int = 12
) -> Iterator[dict[str, Any]]:
    """Conversations ``0..count-1`` in export format, one at a time (exports can be huge)."""
    for index in range(count):
        yield export_conversation(index, seed=seed, mean_nodes=mean_nodes)


def write_export_json(path: str | Path, count: int, *, seed: int = 0, mean_nodes: int = 12) -> None:
    """Write ``conversations.json`` as the official export does: one JSON array, streamed."""
    with open(path, "w", encoding="utf-8") as out:
        out.write("[")
        for n, body in enumerate(export_conversations(count, seed=seed, mean_nodes=mean_nodes)):
            out.write(", " if n else "")
            json.dump(body, out, ensure_ascii=False)
        out.write("]")


def iso_time(ts: float, form: int) -> str:
    """Format an epoch as one of the ISO spellings the conversation list has used over the years.

    0: no zone (means UTC), 1: ``+00:00``, 2: ``Z`` with milliseconds, 3: whole seconds, no zone.
    """
    dt = datetime.fromtimestamp(ts, UTC)
    if form == 0:
        return dt.replace(tzinfo=None).isoformat(timespec="microseconds")
    if form == 1:
        return dt.isoformat(timespec="microseconds")
    if form == 2:
        return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return dt.replace(tzinfo=None).isoformat(timespec="seconds")
