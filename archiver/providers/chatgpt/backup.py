"""ChatGPT as a BackupSource: the default and archived lists, ``conversation/{id}`` details."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import sqlite_utils

from archiver.account.snapshots import snapshot_account
from archiver.backup.engine import BackupOptions, BackupSummary, run_backup
from archiver.backup.listing import ListItem
from archiver.errors import ArchiverError
from archiver.flatten.records import FlatConversation
from archiver.progress import Progress
from archiver.providers.chatgpt.client import DEFAULT_MAX_RPM, ChatGPTClient, ChatGPTSettings
from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.transport.http import HttpClient, RetryPolicy, new_session
from archiver.transport.ratelimit import RateLimiter

FEED_DEFAULT = "conversations"
FEED_ARCHIVED = "archived"


class ChatGPTBackup:
    provider = "chatgpt"

    def __init__(self, client: ChatGPTClient, *, include_archived: bool = True):
        self.client = client
        self.include_archived = include_archived
        self.lists_everything = include_archived
        self.account = client.settings.account
        self.base_url = client.settings.base_url

    def feeds(self) -> list[str]:
        return [FEED_DEFAULT, FEED_ARCHIVED] if self.include_archived else [FEED_DEFAULT]

    def list_pages(self, feed: str) -> AsyncIterator[list[ListItem]]:
        return self.client.list_pages(archived=feed == FEED_ARCHIVED)

    async def fetch(self, item: ListItem) -> Any:
        return await self.client.get_conversation(item.id)

    def flatten(self, item: ListItem, raw: Any) -> FlatConversation:
        return flatten_conversation(
            raw,
            requested_id=item.id,
            account=self.account,
            list_update_time=item.update_time,
        )

    def request_stats(self) -> dict[str, int]:
        return self.client.http.stats.counts()


async def backup_chatgpt(
    db: sqlite_utils.Database,
    settings: ChatGPTSettings,
    *,
    options: BackupOptions | None = None,
    include_archived: bool = True,
    max_rpm: float | None = DEFAULT_MAX_RPM,
    burst: int = 1,
    policy: RetryPolicy | None = None,
    timeout_seconds: float = 120.0,
    progress: Progress | None = None,
    snapshot: bool = True,
    limiter: RateLimiter | None = None,
) -> BackupSummary:
    """One backup run: one session, one limiter for the account, one retry policy.

    With ``snapshot`` the run first records the account endpoints (4 requests, see
    archiver.account.snapshots); their failures are recorded, not fatal, except a refused
    token or a challenge page, which end the run before the list is walked.

    Pass ``limiter`` to own the account's limiter (``max_rpm``/``burst`` are then ignored): after
    the run it tells whether a 429 pause is still running (``limiter.pause_remaining()``)."""
    if limiter is None:
        limiter = RateLimiter(max_rpm, burst=burst)
    async with new_session(timeout_seconds=timeout_seconds) as session:
        http = HttpClient(session, limiter, policy)
        source = ChatGPTBackup(ChatGPTClient(http, settings), include_archived=include_archived)
        if snapshot:
            try:
                await snapshot_account(db, source.client)
            except ArchiverError as exc:  # refused token: walking the list would fail too
                stats = source.request_stats()
                return BackupSummary(
                    source.provider,
                    requests=stats["requests"],
                    throttled=stats["throttled"],
                    aborted=exc,
                    errors=[str(exc)],
                )
        return await run_backup(db, source, options, progress)
