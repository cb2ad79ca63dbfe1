"""Tree arithmetic over a ChatGPT ``mapping`` that may be broken in every way seen in the wild:
missing roots, dangling parents and children, a ``current_node`` that is not there, cycles.
Every walk is iterative (real trees reach thousands of nodes) and every node gets a place."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from archiver.loosejson import as_dict


@dataclass
class TreeShape:
    parent: dict[str, str | None]  # resolved parent inside the mapping (None for roots)
    position: dict[str, int]
    depth: dict[str, int]
    current_branch: set[str]
    current_node: str | None  # where the current branch ends, after any fallback


def children_of(node: Any) -> list[str]:
    children = as_dict(node).get("children")
    if not isinstance(children, list):
        return []
    return [c for c in children if isinstance(c, str)]


def resolve_parents(
    mapping: dict[str, Any], children: dict[str, list[str]] | None = None
) -> dict[str, str | None]:
    """A node's parent is its ``parent`` field when that names a node in the mapping; otherwise
    the node that lists it among its ``children``; otherwise it is a root. ``children`` is each
    node's children_of, when the caller already has it."""
    if children is None:
        children = {key: children_of(node) for key, node in mapping.items()}
    listed_by: dict[str, str] = {}
    for key, kids in children.items():
        for child in kids:
            if child in mapping and child != key:
                listed_by.setdefault(child, key)
    parents: dict[str, str | None] = {}
    for key, node in mapping.items():
        declared = node.get("parent") if isinstance(node, dict) else None
        if isinstance(declared, str) and declared in mapping and declared != key:
            parents[key] = declared
        else:
            parents[key] = listed_by.get(key)
    return parents


def compute_depths(parents: dict[str, str | None]) -> dict[str, int]:
    """Depth of every node. A cycle is cut where a walk first re-enters it (that node becomes a
    root, in ``parents`` too), so nodes in cycles still get a depth and a branch."""
    depth: dict[str, int] = {}
    for start in list(parents):
        while start not in depth:
            chain: list[str] = []
            on_chain: set[str] = set()
            node: str | None = start
            while node is not None and node not in depth and node not in on_chain:
                chain.append(node)
                on_chain.add(node)
                node = parents.get(node)
            if node is not None and node in on_chain:
                parents[node] = None  # cut the cycle, then walk again
                continue
            level = -1 if node is None else depth[node]
            for member in reversed(chain):
                level += 1
                depth[member] = level
    return depth


def compute_positions(
    mapping: dict[str, Any],
    parents: dict[str, str | None],
    children: dict[str, list[str]] | None = None,
) -> dict[str, int]:
    """Index among the parent's ``children``; nodes their parent does not list come after the
    listed ones, in mapping order. Roots are numbered among themselves."""
    if children is None:
        children = {key: children_of(node) for key, node in mapping.items()}
    position: dict[str, int] = {}
    extra: dict[str | None, int] = {}
    no_children: list[str] = []
    for key in mapping:
        parent = parents[key]
        listed = children[parent] if parent is not None else no_children
        if key in listed:
            position[key] = listed.index(key)
        else:
            position[key] = len(listed) + extra.get(parent, 0)
            extra[parent] = extra.get(parent, 0) + 1
    return position


def _sort_time(node: Any) -> float:
    created = as_dict(as_dict(node).get("message")).get("create_time")
    return float(created) if isinstance(created, int | float) else float("-inf")


def newest_leaf(mapping: dict[str, Any], parents: dict[str, str | None]) -> str | None:
    """The fallback end of the current branch: the leaf with the newest message, the last leaf
    in mapping order on ties (or when no times are known)."""
    has_children = {p for p in parents.values() if p is not None}
    best: str | None = None
    best_time = float("-inf")
    for key, node in mapping.items():
        if key in has_children:
            continue
        t = _sort_time(node)
        if best is None or t >= best_time:
            best, best_time = key, t
    return best


def tree_shape(mapping: dict[str, Any], current_node: Any) -> TreeShape:
    children = {key: children_of(node) for key, node in mapping.items()}
    parents = resolve_parents(mapping, children)
    depth = compute_depths(parents)
    position = compute_positions(mapping, parents, children)
    current = current_node if isinstance(current_node, str) and current_node in mapping else None
    if current is None:
        current = newest_leaf(mapping, parents)
    branch: set[str] = set()
    node = current
    while node is not None and node not in branch:
        branch.add(node)
        node = parents.get(node)
    return TreeShape(parents, position, depth, branch, current)


def mapping_from_rows(messages: Any) -> dict[str, Any]:
    """A ``mapping`` rebuilt from archived message rows (reflatten): each node's id, parent,
    children and message as stored; nodes marked deleted upstream are left out (upstream no
    longer had them). Raises ValueError for stored JSON that cannot be read."""
    mapping: dict[str, Any] = {}
    for row in messages:
        if row.get("deleted_upstream_at") is not None:
            continue
        node: dict[str, Any] = {"id": row["id"]}
        if row.get("raw_json") is not None:
            node["message"] = json.loads(row["raw_json"])
        if row.get("parent_id") is not None:
            node["parent"] = row["parent_id"]
        if row.get("children") is not None:
            node["children"] = json.loads(row["children"])
        mapping[str(row["id"])] = node
    return mapping
