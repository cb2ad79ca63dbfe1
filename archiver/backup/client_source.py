"""What the backup sources over one provider client share, so that a provider's ``backup.py``
holds only what is its own: its feeds, how it lists, fetches and flattens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, ClassVar, Protocol, Self

import sqlite_utils

from archiver.backup.engine import BackupOptions, BackupSource, BackupSummary, run_backup
from archiver.backup.listing import ListItem, unreadable_entry
from archiver.backup.options import backup_pace
from archiver.errors import ThrottledUntil
from archiver.flatten.records import FlatConversation
from archiver.progress import Progress
from archiver.store.runs import remember_throttle_stop
from archiver.transport.http import HttpClient, RetryPolicy
from archiver.transport.pace import ClientPace, paced_http
from archiver.transport.ratelimit import RateLimiter


class ListedChat(Protocol):
    """What a provider's parsed list entry offers the engine."""

    @property
    def conversation_id(self) -> str: ...
    @property
    def update_time(self) -> str | None: ...
    @property
    def title(self) -> str | None: ...
    @property
    def raw(self) -> dict[str, Any]: ...


def list_page(chats: Iterable[ListedChat], unreadable: Iterable[Any]) -> list[ListItem]:
    """One page for the engine: the parsed entries, then one item per entry that had no usable
    id (so that a full walk knows it did not read every entry)."""
    return [
        ListItem(
            id=chat.conversation_id, update_time=chat.update_time, title=chat.title, raw=chat.raw
        )
        for chat in chats
    ] + [unreadable_entry(raw) for raw in unreadable]


class ClientSource:
    """A source reading through ``client`` (which has ``settings.account`` and ``http``).
    A subclass names its client class and its flattener, called as ``flattener(list entry,
    fetched answer, requested_id=, account=, list_update_time=)``."""

    provider: str
    client_class: ClassVar[type[Any]]  # called as client_class(http, settings)
    flattener: ClassVar[Callable[..., FlatConversation]]

    def __init__(self, client: Any):
        self.client = client
        self.account: str = client.settings.account

    @classmethod
    def over(cls, http: HttpClient, settings: Any) -> Self:
        """The source over a new ``client_class`` client on ``http``."""
        return cls(cls.client_class(http, settings))

    def request_stats(self) -> dict[str, int]:
        counts: dict[str, int] = self.client.http.stats.counts()
        return counts

    def flatten(self, item: ListItem, raw: Any) -> FlatConversation:
        return type(self).flattener(
            item.raw,
            raw,
            requested_id=item.id,
            account=self.account,
            list_update_time=item.update_time,
        )


BackupFunction = Callable[..., Awaitable[BackupSummary]]


def client_backup(
    make_source: Callable[[HttpClient, Any], BackupSource],
    make_http: Callable[[Any, RateLimiter, RetryPolicy | None], HttpClient],
    *,
    default_pace: ClientPace,
) -> BackupFunction:
    """A provider's ``backup_<name>(db, settings, *, options, pace, progress)``: one session,
    one limiter for the account, one retry policy (``pace``, default ``default_pace``), the
    source made by ``make_source(http, settings)`` (a ClientSource's ``over``)."""

    async def backup(
        db: sqlite_utils.Database,
        settings: Any,
        *,
        options: BackupOptions | None = None,
        pace: ClientPace = default_pace,
        progress: Progress | None = None,
    ) -> BackupSummary:
        async with paced_http(pace, make_http) as http:
            source = make_source(http, settings)
            summary = await run_backup(db, source, options, progress)
        if isinstance(summary.aborted, ThrottledUntil):  # cron skips until the wait is over
            remember_throttle_stop(db, source.provider, source.account, summary.aborted)
        return summary

    return backup


def run_with_options(
    backup: BackupFunction,
    extra: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
) -> Callable[..., Awaitable[BackupSummary]]:
    """``run_backup(db, settings, values, progress)`` for a backup taking the common options
    (full, force, concurrency, max_rpm, max_wait, timeout), plus the keywords ``extra(values)``
    makes of the provider's own."""

    async def run(
        db: sqlite_utils.Database,
        settings: Any,
        values: Mapping[str, Any],
        progress: Progress | None = None,
    ) -> BackupSummary:
        return await backup(
            db,
            settings,
            options=BackupOptions(
                full=values["full"],
                concurrency=values["concurrency"],
                force=bool(values.get("force", False)),
            ),
            pace=backup_pace(values),
            progress=progress,
            **(extra(values) if extra else {}),
        )

    return run
