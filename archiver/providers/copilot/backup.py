"""Copilot as a BackupSource for the shared engine: one feed, the conversation list.

The list's order is unknown (docs/protocol/copilot.md), so every page is walked and the engine
is handed one page sorted by ``updatedAt``: a no-change run makes only the list requests, and only
conversations whose ``updatedAt`` the archive has not seen have their history fetched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import sqlite_utils

from archiver.backup.engine import BackupOptions, BackupSummary, run_backup
from archiver.backup.listing import ListItem
from archiver.flatten.records import FlatConversation
from archiver.progress import Progress
from archiver.providers.copilot.client import CopilotClient, CopilotSettings, new_copilot_http
from archiver.providers.copilot.flatten import PROVIDER, flatten_copilot_conversation
from archiver.transport.http import RetryPolicy, new_session
from archiver.transport.ratelimit import RateLimiter

FEED_CONVERSATIONS = "conversations"
DEFAULT_BACKUP_RPM = 20.0


class CopilotBackup:
    provider = PROVIDER
    lists_everything = True  # the list (all types) holds every conversation

    def __init__(self, client: CopilotClient):
        self.client = client
        self.account = client.settings.account
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

    def request_stats(self) -> dict[str, int]:
        return self.client.http.stats.counts()


async def backup_copilot(
    db: sqlite_utils.Database,
    settings: CopilotSettings,
    *,
    options: BackupOptions | None = None,
    max_rpm: float | None = DEFAULT_BACKUP_RPM,
    burst: int = 1,
    policy: RetryPolicy | None = None,
    timeout_seconds: float = 120.0,
    progress: Progress | None = None,
) -> BackupSummary:
    """One backup run: one session, one limiter, one retry policy (502s and drops retried)."""
    async with new_session(timeout_seconds=timeout_seconds) as session:
        http = new_copilot_http(session, RateLimiter(max_rpm, burst=burst), policy)
        source = CopilotBackup(CopilotClient(http, settings))
        return await run_backup(db, source, options, progress)


__all__ = ["DEFAULT_BACKUP_RPM", "FEED_CONVERSATIONS", "CopilotBackup", "backup_copilot"]
