"""Copilot as a BackupSource for the shared engine: one feed, the conversation list.

The list's order is unknown (docs/protocol/copilot.md), so every page is walked and the engine
is handed one page sorted by ``updatedAt``: a no-change run makes only the list requests, and only
conversations whose ``updatedAt`` the archive has not seen have their history fetched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import sqlite_utils

from archiver.backup.client_source import ClientSource, backup_over, list_page
from archiver.backup.engine import BackupSummary
from archiver.backup.listing import ListItem
from archiver.backup.options import BackupRun, with_option_values
from archiver.backup.public_files import after_backup
from archiver.providers.copilot.client import CopilotClient, CopilotSettings, new_copilot_http
from archiver.providers.copilot.files import images_to_fetch
from archiver.providers.copilot.flatten import flatten_copilot_conversation
from archiver.providers.copilot.options import DEFAULT_BACKUP_RPM, IMAGE_RPM, PROVIDER
from archiver.transport.pace import ClientPace

FEED_CONVERSATIONS = "conversations"


class CopilotBackup(ClientSource):
    provider = PROVIDER
    lists_everything = True  # the list (all types) holds every conversation
    client_class = CopilotClient
    flattener = staticmethod(flatten_copilot_conversation)

    def __init__(self, client: CopilotClient):
        super().__init__(client)
        self.base_url = client.settings.base_url

    def feeds(self) -> list[str]:
        return [FEED_CONVERSATIONS]

    async def list_pages(self, feed: str) -> AsyncIterator[list[ListItem]]:
        chats = await self.client.list_all()
        yield list_page(chats, self.client.unreadable_entries)

    async def fetch(self, item: ListItem) -> Any:
        return await self.client.history(item.id)


DEFAULT_RUN = BackupRun(ClientPace(DEFAULT_BACKUP_RPM))


async def backup_copilot(
    db: sqlite_utils.Database,
    settings: CopilotSettings,
    run: BackupRun = DEFAULT_RUN,
) -> BackupSummary:
    """One backup run, then the images its messages point at into the file store (unless
    ``images.download`` is false; nothing is downloaded when the run stopped early).
    ``images.rpm`` None means unpaced (tests against the local emulator)."""
    summary = await backup_over(db, CopilotBackup, new_copilot_http, settings, run)
    return await after_backup(db, summary, images_to_fetch, run, rpm=IMAGE_RPM)


back_up = with_option_values(backup_copilot)  # ``archiver backup copilot`` (modules.BackupModule)


__all__ = ["FEED_CONVERSATIONS", "CopilotBackup", "back_up", "backup_copilot"]
