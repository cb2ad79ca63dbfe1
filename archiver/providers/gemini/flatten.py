"""One Gemini chat → rows (pure): the live turns, the Takeout's prompt entries, or both merged.

A chat is a tree. A live turn is a user node (``r_…``) whose children are its response
candidates (``rc_…``, the drafts; the one shown is on the current branch); the next turn hangs
under the candidate it continued from (``[1]``), else under the turn before. A Takeout entry
is a user node (``t_…``) with one child per draft (``t_….d0``; the first is the one taken as
shown), hung under the item before it in time.

Where both sources hold a chat, an entry whose prompt is a live turn's (same text, whitespace
collapsed, sent within ``MATCH_SECONDS``) is that turn: it becomes no message. Its raw is kept
as a hidden root row (no role, no text, so search and counts see the turn once; ``message_id``
names the turn), and its uploads are attached to the turn's user node, since a Takeout carries
the files a live backup cannot. Entries no live turn holds stay visible, in time order.

Both the live backup and the Takeout import build the chat from everything the archive holds
for it (``chat_from_rows``) plus what they read, so the two meet in one conversation whichever
comes first, and re-running either rewrites nothing.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from archiver.flatten.linear import derived_id, unique_ids
from archiver.flatten.records import FlatConversation, content_hash, dumps
from archiver.flatten.tree import tree_shape
from archiver.loosejson import as_dict, load_json
from archiver.providers.gemini import parse
from archiver.providers.gemini.htmltext import html_to_text
from archiver.providers.gemini.options import FLATTENER_VERSION, PROVIDER, TAKEOUT_POINTER
from archiver.providers.gemini.takeout import Entry, normalized
from archiver.providers.gemini.takeout_html import entry_from_raw
from archiver.timeutil import to_datetime

MATCH_SECONDS = 5.0


@dataclass
class GeminiChat:
    """What the archive knows of one chat: the list row and read pages (live), its turns
    (oldest first) and its Takeout prompt entries."""

    id: str
    list_row: dict[str, Any] | None = None
    read: list[Any] = field(default_factory=list)
    turns: list[list[Any]] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    def with_entries(self, new: Sequence[Entry]) -> GeminiChat:
        """The entries of both, by key: a new entry replaces a stored one, except that an HTML
        copy never replaces a JSON one (the JSON form says more)."""
        merged = {e.key: e for e in self.entries}
        for entry in new:
            old = merged.get(entry.key)
            if old is None or not (old.form == "json" and entry.form == "html"):
                merged[entry.key] = entry
        return replace(self, entries=sorted(merged.values(), key=lambda e: (e.time, e.key)))


def _seconds(iso: str | None) -> float | None:
    dt = to_datetime(iso)
    return dt.timestamp() if dt is not None else None


def match_entries(turns: Sequence[list[Any]], entries: Sequence[Entry]) -> dict[str, int]:
    """Entry key → the index of the live turn it is: same prompt, sent within MATCH_SECONDS;
    each turn taken once, the closest in time first."""
    pairs: list[tuple[float, str, int]] = []
    prompts = [normalized(parse.turn_prompt(t) or "") for t in turns]
    times = [_seconds(parse.turn_time(t)) for t in turns]
    for entry in entries:
        at = _seconds(entry.time)
        if at is None:
            continue
        wanted = normalized(entry.prompt)
        for index, (prompt, when) in enumerate(zip(prompts, times, strict=True)):
            if when is not None and prompt == wanted and abs(when - at) <= MATCH_SECONDS:
                pairs.append((abs(when - at), entry.key, index))
    matched: dict[str, int] = {}
    taken: set[int] = set()
    for _, key, index in sorted(pairs):
        if key not in matched and index not in taken:
            matched[key] = index
            taken.add(index)
    return matched


# --- what the archive keeps of a turn --------------------------------------------------------


def elide(turn: list[Any], candidate_nodes: list[str]) -> list[Any]:
    """The turn as its user row keeps it: the candidates (each kept by its own row) replaced
    by their node ids."""
    copy = list(turn)
    if len(copy) > 3 and isinstance(copy[3], list) and copy[3]:
        answer = list(copy[3])
        answer[0] = candidate_nodes
        copy[3] = answer
    return copy


def restore(shell: list[Any], candidates: Mapping[str, Any]) -> list[Any]:
    """The turn again, from its user row's shell and its candidates' rows."""
    ids = parse.at(shell, 3, 0)
    if not isinstance(ids, list):
        return shell
    turn = list(shell)
    answer = list(turn[3])
    answer[0] = [candidates[i] for i in ids if isinstance(i, str) and i in candidates]
    turn[3] = answer
    return turn


def chat_from_rows(
    conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
) -> GeminiChat:
    """A chat as the archive holds it (rows not marked gone upstream)."""
    stored = as_dict(load_json(conversation.get("raw_json")))
    shells: list[tuple[str | None, list[Any]]] = []
    candidates: dict[str, Any] = {}
    entries: list[Entry] = []
    for row in messages:
        if row.get("deleted_upstream_at"):
            continue
        raw = as_dict(load_json(row.get("raw_json")))
        if isinstance(raw.get("turn"), list):
            shells.append((parse.turn_time(raw["turn"]), raw["turn"]))
        elif "candidate" in raw:
            candidates[str(row["id"])] = raw["candidate"]
        elif isinstance(raw.get("takeout"), dict):
            entry = entry_from_raw(raw["takeout"])
            if entry is not None:
                entries.append(replace(entry, key=str(row["id"])))
    shells.sort(key=lambda pair: pair[0] or "")
    list_row = stored.get("list")
    read = stored.get("read")
    return GeminiChat(
        id=str(conversation["id"]),
        list_row=list_row if isinstance(list_row, dict) else None,
        read=read if isinstance(read, list) else [],
        turns=[restore(shell, candidates) for _, shell in shells],
        entries=sorted(entries, key=lambda e: (e.time, e.key)),
    )


# --- the tree --------------------------------------------------------------------------------


@dataclass
class _Node:
    id: str
    parent: str | None
    row: dict[str, Any]


def _mime(name: str) -> str | None:
    return mimetypes.guess_type(name)[0]


def _attachments(cid: str, node: str, entry: Entry) -> list[dict[str, Any]]:
    return [
        {
            "conversation_id": cid,
            "message_node_id": node,
            "asset_pointer": TAKEOUT_POINTER + (a.file or a.name),
            "file_name": a.name,
            "mime_type": _mime(a.file or a.name),
            "size_bytes": None,
        }
        for a in entry.attachments
    ]


def _row(**columns: Any) -> dict[str, Any]:
    base = {
        "message_id": None,
        "role": None,
        "author_name": None,
        "recipient": None,
        "channel": None,
        "content_type": "text",
        "text": None,
        "model_slug": None,
        "status": None,
        "create_time": None,
        "is_hidden": 0,
        "raw_json": None,
    }
    base.update(columns)
    return base


class _Builder:
    def __init__(self, chat: GeminiChat):
        self.chat = chat
        self.nodes: dict[str, _Node] = {}
        self.attachments: list[dict[str, Any]] = []
        self.chosen_of_turn: dict[str, str] = {}  # r_ id -> its shown candidate's node

    def add(self, node: str, parent: str | None, **columns: Any) -> None:
        self.nodes[node] = _Node(node, parent, _row(**columns))

    def turn(self, turn: list[Any], ids: tuple[str, list[str]], previous: str | None) -> str:
        user, candidate_ids = ids
        after_turn, after_candidate = parse.turn_parent(turn)
        parent = previous
        if after_candidate in self.nodes:
            parent = after_candidate
        elif after_turn in self.chosen_of_turn:
            parent = self.chosen_of_turn[after_turn]
        when = parse.turn_time(turn)
        self.add(
            user,
            parent,
            message_id=parse.turn_id(turn),
            role="user",
            text=parse.turn_prompt(turn) or "",
            create_time=when,
            raw_json=dumps({"turn": elide(turn, candidate_ids)}),
        )
        chosen = parse.turn_chosen(turn)
        end = user
        model = parse.turn_model(turn)
        for node, candidate in zip(candidate_ids, parse.turn_candidates(turn), strict=True):
            self.add(
                node,
                user,
                message_id=parse.candidate_id(candidate),
                role="assistant",
                text=parse.candidate_text(candidate),
                model_slug=model,
                status="finished" if parse.candidate_finished(candidate) else "incomplete",
                create_time=when,
                raw_json=dumps({"candidate": candidate}),
            )
            self.attachments += [
                {
                    "conversation_id": self.chat.id,
                    "message_node_id": node,
                    "asset_pointer": url,
                    "file_name": None,
                    "mime_type": None,
                    "size_bytes": None,
                }
                for url in parse.candidate_images(candidate)
            ]
            if end == user or parse.candidate_id(candidate) == chosen:
                end = node
        if parse.turn_id(turn):
            self.chosen_of_turn[str(parse.turn_id(turn))] = end
        return end

    def entry(self, entry: Entry, previous: str | None) -> str:
        self.add(
            entry.key,
            previous,
            role="user",
            text=entry.prompt,
            content_type="takeout_prompt",
            create_time=entry.time,
            raw_json=dumps({"takeout": entry.raw}),
        )
        self.attachments += _attachments(self.chat.id, entry.key, entry)
        end = entry.key
        for index, html in enumerate(entry.drafts):
            node = f"{entry.key}.d{index}"
            self.add(
                node,
                entry.key,
                role="assistant",
                text=html_to_text(html),
                content_type="takeout_html",
                create_time=entry.time,
                raw_json=dumps({"takeout_draft": {"index": index, "html": html}}),
            )
            if index == 0:
                end = node
        return end

    def matched(self, entry: Entry, user_node: str, turn_id: str | None) -> None:
        self.add(
            entry.key,
            None,
            message_id=turn_id,
            content_type="takeout_match",
            create_time=entry.time,
            is_hidden=1,
            raw_json=dumps({"takeout": entry.raw}),
        )
        self.attachments += _attachments(self.chat.id, user_node, entry)


def _turn_ids(turns: Sequence[list[Any]]) -> list[tuple[str, list[str]]]:
    """Each turn's user node id and its candidates' node ids (ids missing derived, repeated
    ones suffixed, unique across the chat)."""
    bases: list[str] = []
    shape: list[int] = []
    for turn in turns:
        bases.append(
            parse.turn_id(turn)
            or derived_id(turn, [parse.turn_prompt(turn), parse.turn_time(turn)])
        )
        candidates = parse.turn_candidates(turn)
        shape.append(len(candidates))
        bases += [
            parse.candidate_id(c) or derived_id(c, [parse.candidate_text(c)]) for c in candidates
        ]
    ids = unique_ids(bases)
    out: list[tuple[str, list[str]]] = []
    at = 0
    for count in shape:
        out.append((ids[at], ids[at + 1 : at + 1 + count]))
        at += 1 + count
    return out


def _title(chat: GeminiChat, first_prompt: str | None) -> str | None:
    row = parse.at(as_dict(chat.list_row).get("row"), 1)
    if isinstance(row, str) and row:
        return row
    if first_prompt:
        line = first_prompt.strip().splitlines()[0] if first_prompt.strip() else ""
        return line[:80] or None
    return None


def gems_of(chat: GeminiChat) -> dict[str, tuple[str | None, Any]]:
    """Gem id → (name, what the source said of it): the live turns' Gem, else the entries'."""
    found: dict[str, tuple[str | None, Any]] = {}
    for turn in chat.turns:
        gem_id, name = parse.turn_gem(turn)
        if gem_id:
            found[gem_id] = (
                name,
                {"turn_gem": parse.at(turn, 9), "turn_gem_setup": parse.at(turn, 10)},
            )
    if not found:
        for entry in chat.entries:
            if entry.gem is not None:
                found[entry.gem.id] = (
                    entry.gem.name,
                    {"name": entry.gem.name, "url": entry.gem.url},
                )
    return found


def flatten_chat(
    chat: GeminiChat, *, account: str = "", list_update_time: str | None = None
) -> FlatConversation:
    turn_ids = _turn_ids(chat.turns)
    matched = match_entries(chat.turns, chat.entries)
    build = _Builder(chat)
    live_items = [(parse.turn_time(t), 0, i) for i, t in enumerate(chat.turns)]
    entry_items = [(e.time, 1, i) for i, e in enumerate(chat.entries) if e.key not in matched]
    # Live turns keep the server's order; entries go in between by time.
    items: list[tuple[str | None, int, int]] = []
    pending = list(entry_items)
    for live in live_items:
        while pending and live[0] is not None and (pending[0][0] or "") < live[0]:
            items.append(pending.pop(0))
        items.append(live)
    items += pending
    previous: str | None = None
    for _, kind, index in items:
        if kind == 0:
            previous = build.turn(chat.turns[index], turn_ids[index], previous)
        else:
            previous = build.entry(chat.entries[index], previous)
    for entry in chat.entries:
        if entry.key in matched:
            index = matched[entry.key]
            build.matched(entry, turn_ids[index][0], parse.turn_id(chat.turns[index]))
    children: dict[str, list[str]] = {key: [] for key in build.nodes}
    for key, node in build.nodes.items():
        if node.parent is not None:
            children[node.parent].append(key)
    mapping: dict[str, Any] = {
        key: {"parent": node.parent, "children": children[key]} for key, node in build.nodes.items()
    }
    shape = tree_shape(mapping, previous)
    rows: list[dict[str, Any]] = []
    for key, node in build.nodes.items():
        rows.append(
            {
                "conversation_id": chat.id,
                "id": key,
                "parent_id": node.parent,
                "children": dumps(children[key]),
                "position": shape.position[key],
                "depth": shape.depth[key],
                "on_current_branch": int(key in shape.current_branch),
                **node.row,
            }
        )
    times = [r["create_time"] for r in rows if r["create_time"]]
    listed = parse.pair_iso(parse.at(as_dict(chat.list_row).get("row"), 5))
    first_prompt = next(
        (r["text"] for r in rows if r["role"] == "user" and not r["is_hidden"]), None
    )
    models = [parse.turn_model(t) for t in chat.turns if parse.turn_model(t)]
    gems = gems_of(chat)
    conversation = {
        "id": chat.id,
        "provider": PROVIDER,
        "account": account,
        "title": _title(chat, first_prompt),
        "create_time": min(times) if times else listed,
        "update_time": max([*times, *([listed] if listed else [])]) if times or listed else None,
        "list_update_time": list_update_time,
        "current_node": shape.current_node,
        "is_archived": None,
        "default_model_slug": models[-1] if models else None,
        "gizmo_id": next(iter(gems), None),
        "node_count": len(rows),
        "source": "api" if chat.turns or chat.list_row else "export",
        "content_hash": content_hash(
            {
                "list": chat.list_row,
                "turns": chat.turns,
                "entries": [[e.key, e.raw] for e in chat.entries],
            }
        ),
        "flattener_version": FLATTENER_VERSION,
        "raw_json": dumps({"list": chat.list_row, "read": chat.read}),
    }
    return FlatConversation(conversation, rows, build.attachments)


__all__ = [
    "FLATTENER_VERSION",
    "MATCH_SECONDS",
    "TAKEOUT_POINTER",
    "GeminiChat",
    "chat_from_rows",
    "elide",
    "flatten_chat",
    "gems_of",
    "match_entries",
    "restore",
]
