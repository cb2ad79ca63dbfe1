"""Conversations given node by node → rows, for formats whose messages name their parent
(a parent id on each message, a mapping with parents and children, or a plain list in which
each message follows the one before). Pure.

A provider's reader turns each message into a ``Node`` (its key, the parent upstream named,
its time, its own message columns) and the conversation into a ``NodeChat``; the tree columns
(parent, children, position, depth, the current branch) and the conversation row are built
here, the same way for every such format, with the tree rules of ``flatten.tree``:

- a node whose parent is not in the conversation is a root (its ``parent_id`` keeps what
  upstream said, as ChatGPT's rows do);
- children are upstream's list when the format gives one, else the nodes naming the parent, in
  time order (ties: input order);
- the current branch ends at ``current`` when it names a node, else at the newest leaf (the
  leaf with the latest time; ties and unknown times: the last such leaf in input order);
- the conversation's update time is the later of upstream's and its newest message's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archiver.flatten.records import FlatConversation, dumps, head_row, tree_hash
from archiver.flatten.tree import tree_shape


@dataclass
class Node:
    key: str  # unique within the conversation
    parent: str | None  # what upstream named (may be missing from the conversation)
    time: float | None  # epoch seconds: orders siblings, picks the newest leaf
    # Every message column but the tree's (conversation_id, id, parent_id, children, position,
    # depth, on_current_branch, which are built here): message_id, role, ..., text, raw_json.
    columns: dict[str, Any]
    children: list[str] | None = None  # upstream's own list, when the format has one


@dataclass
class NodeChat:
    id: str
    provider: str
    nodes: list[Node]  # in upstream's order
    title: str | None
    create_time: str | None  # None: the earliest message's
    # Upstream's; the latest message's when that is later (an upstream that does not move its
    # own time when a message is added must still look newer than the archived copy).
    update_time: str | None
    stored: Any  # the conversation's raw JSON without its messages (hashed and kept)
    flattener_version: int
    current: str | None = None  # the tip of the branch shown, when upstream names one
    default_model_slug: str | None = None
    gizmo_id: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)


def chained(nodes: list[Node]) -> list[Node]:
    """A flat history as one thread: the nodes in time order (unknown times last; on a tie a
    user's message first, then input order), each the child of the one before."""
    order = sorted(
        range(len(nodes)),
        key=lambda i: (
            nodes[i].time is None,
            nodes[i].time or 0.0,
            nodes[i].columns.get("role") != "user",
            i,
        ),
    )
    ordered = [nodes[i] for i in order]
    for before, node in zip([None, *ordered], ordered, strict=False):
        node.parent = before.key if before is not None else None
        node.children = None
    return ordered


def _children_by_time(nodes: list[Node], keys: set[str]) -> dict[str, list[str]]:
    order = {node.key: index for index, node in enumerate(nodes)}
    times = {node.key: node.time for node in nodes}
    kids: dict[str, list[str]] = {node.key: [] for node in nodes}
    for node in nodes:
        if node.parent in keys and node.parent != node.key:
            kids[node.parent].append(node.key)
    for siblings in kids.values():
        siblings.sort(key=lambda k: (times[k] is None, times[k] or 0.0, order[k]))
    return kids


def tree_rows(chat: NodeChat) -> tuple[list[dict[str, Any]], str | None]:
    """Every node's row (in input order) and the node the current branch ends at."""
    keys = {node.key for node in chat.nodes}
    computed = _children_by_time(chat.nodes, keys)
    mapping: dict[str, Any] = {}
    children: dict[str, list[str]] = {}
    for node in chat.nodes:
        kids = node.children if node.children is not None else computed[node.key]
        children[node.key] = kids
        # tree_shape reads parents, children and (for the newest leaf) message.create_time.
        mapping[node.key] = {
            "parent": node.parent,
            "children": kids,
            "message": {"create_time": node.time},
        }
    shape = tree_shape(mapping, chat.current)
    rows = []
    for node in chat.nodes:
        row = {
            "conversation_id": chat.id,
            "id": node.key,
            "parent_id": node.parent or shape.parent.get(node.key),
            "children": dumps(children[node.key]),
            "position": shape.position[node.key],
            "depth": shape.depth[node.key],
            "on_current_branch": int(node.key in shape.current_branch),
        }
        row.update(node.columns)
        rows.append(row)
    return rows, shape.current_node


def flatten_nodes(chat: NodeChat, *, source: str = "export", account: str = "") -> FlatConversation:
    """The conversation's rows: every node, the conversation row with its content hash (the
    stored conversation JSON and, per node, its id, parent, children and raw JSON)."""
    rows, current = tree_rows(chat)
    times = [row["create_time"] for row in rows if row.get("create_time")]
    conversation = head_row(
        chat,
        account=account,
        source=source,
        times=times,
        update_time=max([t for t in (chat.update_time, *times) if t], default=None),
        current_node=current,
        default_model_slug=chat.default_model_slug,
        node_count=len(rows),
        content_hash=tree_hash(chat.stored, rows),
        flattener_version=chat.flattener_version,
    )
    return FlatConversation(conversation, rows, chat.attachments)


__all__ = ["Node", "NodeChat", "chained", "flatten_nodes", "tree_rows"]
