"""The order in which a conversation's rows are read: pure functions, rows in, events out.

A ChatGPT conversation is a tree. Its current branch is the path from the root to
``current_node`` (walk the parents up, then reverse — never order a path by time: message times
are not monotonic). With every branch, the tree is walked depth first and each fork (an edited
prompt, a regenerated answer) becomes "alternative i of n". Bing chats are linear lists.
Every walk is iterative: real trees reach thousands of nodes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from archiver.flatten.tree import compute_depths, resolve_parents

Branches = Literal["current", "all"]
BRANCH_CHOICES: tuple[Branches, ...] = ("current", "all")


@dataclass(frozen=True)
class Turn:
    """One visible message, inside ``level`` nested alternatives."""

    message: dict[str, Any]
    level: int


@dataclass(frozen=True)
class AlternativeStart:
    """Alternative ``index`` of ``of`` at a fork; ``current`` if the current branch goes on
    through it. ``path`` is the (index, of) of every enclosing alternative, this one last."""

    index: int
    of: int
    current: bool
    level: int
    path: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class AlternativeEnd:
    level: int


Event = Turn | AlternativeStart | AlternativeEnd


def is_message(message: dict[str, Any]) -> bool:
    """A node that holds a message (hidden or not), not an empty root."""
    return message.get("raw_json") is not None


def is_visible(message: dict[str, Any]) -> bool:
    """A message a reader should see: not an empty root, not a hidden system/context node."""
    return is_message(message) and not message.get("is_hidden")


def _children_list(message: dict[str, Any]) -> list[str]:
    try:
        children = json.loads(message.get("children") or "[]")
    except ValueError:
        return []
    return [c for c in children if isinstance(c, str)] if isinstance(children, list) else []


@dataclass
class _Tree:
    rows: dict[str, dict[str, Any]]
    order: dict[str, int]  # the rows' original order, the last tie-breaker
    parent: dict[str, str | None]
    children: dict[str | None, list[str]]

    def sort_key(self, node: str) -> tuple[int, int, int]:
        row = self.rows[node]
        return (row.get("depth") or 0, row.get("position") or 0, self.order[node])


def _tree(messages: list[dict[str, Any]]) -> _Tree:
    rows = {str(m["id"]): m for m in messages}
    order = {key: i for i, key in enumerate(rows)}
    pseudo_mapping = {
        key: {"parent": row.get("parent_id"), "children": _children_list(row)}
        for key, row in rows.items()
    }
    parent = resolve_parents(pseudo_mapping)
    compute_depths(parent)  # cuts cycles in ``parent`` so every walk ends
    children: dict[str | None, list[str]] = {}
    for key in rows:
        children.setdefault(parent[key], []).append(key)
    for kids in children.values():
        kids.sort(key=lambda k: ((rows[k].get("position") or 0), order[k]))
    return _Tree(rows, order, parent, children)


def _is_linear(tree: _Tree) -> bool:
    """No parent links at all (Bing, and other flat upstreams): the rows are a list."""
    return len(tree.rows) > 1 and all(p is None for p in tree.parent.values())


def current_path(messages: list[dict[str, Any]], current_node: str | None) -> list[dict[str, Any]]:
    """Every row (visible or not) on the current branch, root first."""
    tree = _tree(messages)
    if _is_linear(tree):
        return [tree.rows[k] for k in sorted(tree.rows, key=tree.sort_key)]
    if current_node in tree.rows:
        path: list[str] = []
        node: str | None = current_node
        seen: set[str] = set()
        while node is not None and node not in seen:
            seen.add(node)
            path.append(node)
            node = tree.parent.get(node)
        return [tree.rows[k] for k in reversed(path)]
    # No usable current_node: trust the flattener's flags, else read everything in tree order.
    flagged = [k for k, row in tree.rows.items() if row.get("on_current_branch")]
    chosen = flagged or list(tree.rows)
    return [tree.rows[k] for k in sorted(chosen, key=tree.sort_key)]


def thread_events(
    messages: list[dict[str, Any]],
    current_node: str | None,
    branches: Branches = "current",
    *,
    include_hidden: bool = False,
) -> list[Event]:
    """What to show, in reading order: the current branch, or every branch with its forks.
    ``include_hidden``: hidden messages too (the HTML pages hide them behind a switch)."""
    shown = is_message if include_hidden else is_visible
    if branches == "current":
        return [Turn(m, 0) for m in current_path(messages, current_node) if shown(m)]
    tree = _tree(messages)
    if _is_linear(tree):
        ordered = sorted(tree.rows, key=tree.sort_key)
        return [Turn(tree.rows[k], 0) for k in ordered if shown(tree.rows[k])]
    on_branch = {str(m["id"]) for m in current_path(messages, current_node)}
    events: list[Event] = []
    # Stack items: a node to emit with its subtree, or the start/end of an alternative.
    stack: list[tuple[str, Any, int, tuple[tuple[int, int], ...]]] = [
        ("node", root, 0, ()) for root in reversed(tree.children.get(None, []))
    ]
    while stack:
        kind, item, level, path = stack.pop()
        if kind == "start":
            events.append(item)
            continue
        if kind == "end":
            events.append(AlternativeEnd(level))
            continue
        row = tree.rows[item]
        if shown(row):
            events.append(Turn(row, level))
        kids = tree.children.get(item, [])
        if len(kids) == 1:
            stack.append(("node", kids[0], level, path))
            continue
        for index in range(len(kids), 0, -1):
            kid = kids[index - 1]
            inner = (*path, (index, len(kids)))
            start = AlternativeStart(index, len(kids), kid in on_branch, level + 1, inner)
            stack.append(("end", None, level + 1, inner))
            stack.append(("node", kid, level + 1, inner))
            stack.append(("start", start, level + 1, inner))
    return events
