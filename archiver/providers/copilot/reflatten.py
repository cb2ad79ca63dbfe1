"""Copilot conversations re-derived from the rows already archived (``archiver reflatten``):
the stored list entry and history extras, and each message as received. Pure."""

from __future__ import annotations

from archiver.flatten.linear import LinearRebuild
from archiver.providers.copilot.flatten import flatten_copilot_conversation

rebuild = LinearRebuild(
    flatten_copilot_conversation, entry_key="conversation", history_key="history"
)
