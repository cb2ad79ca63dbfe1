"""Build the archived copy of a batch conversation from what the answer streams returned — pure,
no I/O. No extra request per prompt: every request counts against the account's allowance.

A thread grows one turn at a time, and ``save_conversation`` marks nodes missing from the
saved object as deleted upstream, so each save carries the whole conversation so far: the
nodes already archived (read back by the caller) plus the new turn's messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

BATCH_SOURCE = "batch"


def merge_flat_messages(
    existing: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]], *, key: str
) -> list[dict[str, Any]]:
    """A flat history: the archived messages, then the turn's messages not already there
    (by ``key``; a message without one is always added)."""
    merged = list(existing)
    seen = {m.get(key) for m in merged if m.get(key)}
    for message in new:
        ident = message.get(key)
        if ident and ident in seen:
            continue
        if ident:
            seen.add(ident)
        merged.append(message)
    return merged
