"""Copilot as a BackupSource for the shared engine: one feed, the conversation list.

The list's order is unknown (PROTOCOL.md §5), so every page is walked and the engine is handed
one page sorted by ``updatedAt``: a no-change run makes only the list requests, and only
conversations whose ``updatedAt`` the archive has not seen have their history fetched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from archiver.backup.client_source import ClientSource, client_backup
from archiver.backup.listing import ListItem
from archiver.flatten.records import FlatConversation
from archiver.providers.copilot.client import CopilotClient, new_copilot_http
from archiver.providers.copilot.flatten import PROVIDER, flatten_copilot_conversation

FEED_CONVERSATIONS = "conversations"
DEFAULT_BACKUP_RPM = 20.0


class CopilotBackup(ClientSource):
    provider = PROVIDER
    lists_everything = True  # the list (all types) holds every conversation

    def __init__(self, client: CopilotClient):
        super().__init__(client)
        self.base_url = client.settings.base_url

    def feeds(self) -> list[str]:
        return [FEED_CONVERSATIONS]

    async def list_pages(self, feed: str) -> AsyncIterator[list[ListItem]]:
        chats = await self.client.list_all()
        yield [
            ListItem(
                id=chat.conversation_id,
                update_time=chat.update_time,
                title=chat.title,
                raw=chat.raw,
            )
            for chat in chats
        ]

    async def fetch(self, item: ListItem) -> Any:
        return await self.client.history(item.id)

    def flatten(self, item: ListItem, raw: Any) -> FlatConversation:
        return flatten_copilot_conversation(
            item.raw,
            raw,
            requested_id=item.id,
            account=self.account,
            list_update_time=item.update_time,
        )


# One backup run of the account: one session, one limiter, one retry policy.
backup_copilot = client_backup(
    lambda http, settings: CopilotBackup(CopilotClient(http, settings)),
    new_copilot_http,
    default_rpm=DEFAULT_BACKUP_RPM,
)


__all__ = ["DEFAULT_BACKUP_RPM", "FEED_CONVERSATIONS", "CopilotBackup", "backup_copilot"]
