"""Bing as a BackupSource: one feed, the saved chat list; ``GetConversation`` per chat.

The list has no paging: one request shows every chat with its ``updateTimeUtc``, and the shared
engine fetches only chats whose update time it has not archived yet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import sqlite_utils

from archiver.backup.client_source import ClientSource, backup_over, list_page
from archiver.backup.engine import BackupSummary
from archiver.backup.listing import ListItem
from archiver.backup.options import BackupRun, with_option_values
from archiver.providers.bing.client import BingClient, BingSettings, new_bing_http, parse_chat
from archiver.providers.bing.flatten import flatten_bing_conversation
from archiver.transport.pace import ClientPace

FEED_CHATS = "chats"


class BingBackup(ClientSource):
    provider = "bing"
    lists_everything = True  # one list holds every saved chat
    client_class = BingClient
    flattener = staticmethod(flatten_bing_conversation)

    def __init__(self, client: BingClient):
        super().__init__(client)
        self.base_url = client.settings.bing_base_url
        self.client_id: str | None = None  # from the chat list; GetConversation's participantId

    def feeds(self) -> list[str]:
        return [FEED_CHATS]

    async def list_pages(self, feed: str) -> AsyncIterator[list[ListItem]]:
        chat_list = await self.client.list_chats()
        self.client_id = chat_list.client_id
        yield list_page(chat_list.chats, chat_list.unreadable)

    async def fetch(self, item: ListItem) -> Any:
        # A retry of an earlier failure has no list entry: its signature is re-issued.
        chat = parse_chat(item.raw) or parse_chat({"conversationId": item.id})
        assert chat is not None
        return await self.client.get_conversation(chat, self.client_id)


DEFAULT_RUN = BackupRun(ClientPace(20.0))


async def backup_bing(
    db: sqlite_utils.Database, settings: BingSettings, run: BackupRun = DEFAULT_RUN
) -> BackupSummary:
    """One backup run of the account (``archiver backup bing``)."""
    return await backup_over(db, BingBackup, new_bing_http, settings, run)


back_up = with_option_values(backup_bing)  # ``archiver backup bing`` (modules.BackupModule)


__all__ = ["FEED_CHATS", "BingBackup", "back_up", "backup_bing"]
