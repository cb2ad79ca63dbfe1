"""What the backup sources over one provider client share, so that a provider's ``backup.py``
holds only what is its own: its feeds, how it lists, fetches and flattens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, Self

import sqlite_utils

from archiver.backup.engine import BackupSummary, run_backup
from archiver.backup.listing import ListItem, unreadable_entry
from archiver.backup.options import BackupRun
from archiver.errors import ThrottledUntil
from archiver.flatten.records import FlatConversation
from archiver.store.runs import remember_throttle_stop
from archiver.transport.http import HttpClient, RetryPolicy
from archiver.transport.pace import paced_http
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
    lists_everything: bool = False  # see BackupSource
    client_class: ClassVar[type[Any]]  # called as client_class(http, settings)
    flattener: ClassVar[Callable[..., FlatConversation]]

    def __init__(self, client: Any):
        self.client = client
        self.account: str = client.settings.account
        self.base_url: str = ""  # the host the sync state is kept for (set by the subclass)

    def feeds(self) -> list[str]:
        raise NotImplementedError

    def list_pages(self, feed: str) -> AsyncIterator[list[ListItem]]:
        raise NotImplementedError

    async def fetch(self, item: ListItem) -> Any:
        raise NotImplementedError

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


async def backup_over(
    db: sqlite_utils.Database,
    source_class: type[ClientSource],
    make_http: Callable[[Any, RateLimiter, RetryPolicy | None], HttpClient],
    settings: Any,
    run: BackupRun,
) -> BackupSummary:
    """One backup run of an account through a ``source_class`` source: one transport, one
    limiter for the account, one retry policy (``run.pace``). A run stopped by a long throttle
    leaves its cool-down for cron."""
    async with paced_http(run.pace, make_http) as http:
        source = source_class.over(http, settings)
        summary = await run_backup(db, source, run.options, run.progress)
    if isinstance(summary.aborted, ThrottledUntil):  # cron skips until the wait is over
        remember_throttle_stop(db, source.provider, source.account, summary.aborted)
    return summary


@dataclass(frozen=True)
class ListEntry:
    """A ListedChat and nothing more: for a provider whose list entry carries no more than the
    engine decides on (its id, update time and title) and the entry whole."""

    conversation_id: str
    update_time: str | None
    title: str | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def newest_first(entries: Iterable[ListEntry]) -> list[ListEntry]:
    """Once per id (the first time seen wins: pages shift while they are walked), newest
    ``update_time`` first (upstream does not promise an order, so none is relied on)."""
    unique: dict[str, ListEntry] = {}
    for entry in entries:
        unique.setdefault(entry.conversation_id, entry)
    return sorted(unique.values(), key=lambda e: e.update_time or "", reverse=True)
