"""Bing chats re-derived from the rows already archived (``archiver reflatten``): the stored
list entry and GetConversation answer, and each message as received. Pure."""

from __future__ import annotations

from archiver.flatten.linear import LinearRebuild
from archiver.providers.bing.flatten import flatten_bing_conversation

rebuild = LinearRebuild(flatten_bing_conversation, entry_key="chat", history_key="conversation")
