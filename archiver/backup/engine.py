"""The provider-neutral backup loop.

1. Walk each list feed newest-first. An item is fetched when the archive has never seen the
   list show it with that ``update_time``. A default run stops after the page that reaches the
   feed's high-water mark; ``--full`` walks everything.
2. Fetch the candidates with bounded concurrency (the shared limiter paces them), flatten each
   (pure), save each in its own transaction.
3. Only then advance the high-water mark. A run killed at any point resumes from the old mark;
   conversations already saved are recognised item by item and not fetched again.
Failures are recorded in ``fetch_errors`` and retried by the next run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlite_utils

from archiver.backup.listing import ListItem
from archiver.errors import (
    EXIT_FAILED,
    EXIT_PARTIAL,
    ArchiverError,
    NotFoundError,
    RateLimitExceeded,
    UpstreamError,
)
from archiver.flatten.records import FlatConversation
from archiver.progress import NullProgress, Progress
from archiver.store import sync
from archiver.store.save import SaveOutcome, save_conversation
from archiver.summary import RequestSummary

log = logging.getLogger("archiver.backup")


class BackupSource(Protocol):
    provider: str
    account: str
    base_url: str
    # True when feeds() covers everything upstream has: only then may a full walk conclude
    # that a conversation it did not see is gone (ChatGPT without the archived list: False).
    lists_everything: bool

    def feeds(self) -> list[str]: ...

    # Optional: ``async def more_feeds(self) -> list[str]``, feeds discovered after ``feeds()``
    # were walked (looked up with getattr, so sources without it need nothing).

    def list_pages(self, feed: str) -> AsyncIterator[list[ListItem]]: ...

    async def fetch(self, item: ListItem) -> Any:
        """The conversation's raw upstream JSON (I/O)."""

    def flatten(self, item: ListItem, raw: Any) -> FlatConversation:
        """Raw JSON → rows (pure)."""

    def request_stats(self) -> dict[str, int]: ...


@dataclass
class BackupSummary(RequestSummary):
    provider: str
    listed: int = 0
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    missing: int = 0  # listed, then 404 on fetch
    marked_deleted: int = 0
    # Provider-specific counts appended to the summary line (ChatGPT: projects, files, ...).
    extra: dict[str, int] = field(default_factory=dict)
    failed_extra: bool = False  # something besides a conversation failed (a file): partial

    @property
    def label(self) -> str:
        return self.provider

    @property
    def partial(self) -> bool:
        return bool(self.failed or self.failed_extra)

    def line(self) -> str:
        """The one-line summary printed after every run."""
        counts = {**self.counts(), **self.extra}
        return f"{self.label}: " + ", ".join(f"{name} {value}" for name, value in counts.items())


@dataclass(frozen=True)
class BackupOptions:
    full: bool = False
    concurrency: int = 2
    # Mark conversations deleted upstream even when the full walk saw an empty or implausibly
    # short list (a wrong account id or a broken upstream would otherwise mark everything).
    force: bool = False


# A full walk that lists fewer than this share of the conversations still live in the archive
# for that account marks nothing without --force.
PLAUSIBLE_SHARE = 0.5


class ImplausibleListError(ArchiverError):
    """A full walk saw an empty or far too short list: nothing is marked deleted."""

    exit_code = EXIT_PARTIAL


def check_plausible_walk(
    db: sqlite_utils.Database, provider: str, account: str, seen: set[str]
) -> None:
    """Raise ImplausibleListError when marking after this walk would mark most of the archive."""
    live = sync.count_listed_live(db, provider, account)
    if live and (not seen or len(seen) < live * PLAUSIBLE_SHARE):
        raise ImplausibleListError(
            f"the full walk listed {len(seen)} conversation(s) but {live} are live in the "
            f"archive for this account: nothing was marked deleted upstream (wrong account? "
            f"run again with --force if they really are gone)"
        )


def check_readable_walk(unreadable: int) -> None:
    """Raise ImplausibleListError when the full walk met entries it could not read: one of
    them may be a conversation the archive holds, and marking it gone would be wrong."""
    if unreadable:
        raise ImplausibleListError(
            f"the full walk met {unreadable} list entr{'y' if unreadable == 1 else 'ies'} "
            f"without a usable id: nothing was marked deleted upstream (run again with --force "
            f"to mark what was not listed anyway)"
        )


async def _walk_feed(
    db: sqlite_utils.Database,
    source: BackupSource,
    feed: str,
    options: BackupOptions,
    seen: set[str],
    candidates: dict[str, ListItem],
    summary: BackupSummary,
) -> str | None:
    """Collect the feed's candidates; return the newest update_time the list showed."""
    key = sync.FeedKey(source.provider, source.account, source.base_url, feed)
    high_water = sync.get_high_water(db, key)
    newest: str | None = None
    async for page in source.list_pages(feed):
        stored = sync.stored_list_times(db, [item.id for item in page])
        reached_known = False
        for item in page:
            if not item.id:  # an entry without a usable id: counted, never taken for gone
                summary.extra["unreadable_listed"] = summary.extra.get("unreadable_listed", 0) + 1
                log.warning("%s: a list entry without a usable id was skipped", source.provider)
                continue
            if item.update_time and (newest is None or item.update_time > newest):
                newest = item.update_time
            if item.id in seen:  # pages shift while we walk: an item can show up twice
                continue
            seen.add(item.id)
            summary.listed += 1
            known = stored.get(item.id)
            if known is None or item.update_time is None or item.update_time > known:
                candidates[item.id] = item
            else:
                summary.unchanged += 1
            if high_water and item.update_time and item.update_time <= high_water:
                reached_known = True
        if reached_known and not options.full:
            break
    return newest


async def run_backup(
    db: sqlite_utils.Database,
    source: BackupSource,
    options: BackupOptions | None = None,
    progress: Progress | None = None,
) -> BackupSummary:
    options = options or BackupOptions()
    progress = progress or NullProgress()
    summary = BackupSummary(source.provider)
    seen: set[str] = set()
    candidates: dict[str, ListItem] = {}
    newest: dict[str, str | None] = {}
    try:
        for feed in source.feeds():
            newest[feed] = await _walk_feed(db, source, feed, options, seen, candidates, summary)
        # Feeds only known once the main lists were walked (ChatGPT's Projects): a refused
        # token or a challenge then stops the run at its first request, not after a detour.
        discover = getattr(source, "more_feeds", None)
        if discover is not None:
            for feed in await discover():
                newest[feed] = await _walk_feed(
                    db, source, feed, options, seen, candidates, summary
                )
        # Failures of earlier runs are retried even when the list says nothing changed.
        for conversation_id in sync.unresolved_fetch_errors(db, source.provider):
            candidates.setdefault(conversation_id, ListItem(conversation_id, None))
        await _fetch_all(db, source, list(candidates.values()), options, summary, progress)
    except ArchiverError as exc:
        summary.aborted = exc
        summary.errors.append(str(exc))
    finally:
        progress.finish()
        summary.take_requests(source.request_stats())
    if summary.aborted is None:
        for feed, mark in newest.items():
            sync.advance_high_water(
                db,
                sync.FeedKey(source.provider, source.account, source.base_url, feed),
                mark,
                full=options.full,
            )
        if options.full and not summary.failed and source.lists_everything:
            try:
                if not options.force:
                    check_readable_walk(summary.extra.get("unreadable_listed", 0))
                    check_plausible_walk(db, source.provider, source.account, seen)
                summary.marked_deleted = sync.mark_missing_upstream(
                    db, source.provider, source.account, seen
                )
            except ImplausibleListError as exc:
                summary.aborted = exc
                summary.errors.append(str(exc))
    return summary


async def _fetch_all(
    db: sqlite_utils.Database,
    source: BackupSource,
    items: list[ListItem],
    options: BackupOptions,
    summary: BackupSummary,
    progress: Progress,
) -> None:
    progress.start(len(items), f"Archiving {source.provider}")
    queue = iter(items)

    async def worker() -> None:
        for item in queue:  # the shared iterator hands each item to exactly one worker
            await _fetch_one(db, source, item, summary)
            progress.advance()

    workers = [asyncio.create_task(worker()) for _ in range(max(1, options.concurrency))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


async def _fetch_one(
    db: sqlite_utils.Database, source: BackupSource, item: ListItem, summary: BackupSummary
) -> None:
    try:
        raw = await source.fetch(item)
    except NotFoundError as exc:
        summary.missing += 1
        sync.record_fetch_error(db, source.provider, item.id, 404, str(exc))
        sync.mark_deleted_upstream(db, item.id)
        return
    except UpstreamError as exc:
        # Auth, challenge, quota, or 429s beyond their retry budget: stop the whole run.
        if exc.exit_code != EXIT_FAILED or isinstance(exc, RateLimitExceeded):
            raise
        summary.failed += 1
        summary.errors.append(f"{item.id}: {exc}")
        sync.record_fetch_error(db, source.provider, item.id, exc.status, str(exc))
        return
    summary.fetched += 1
    try:
        flat = source.flatten(item, raw)
    except ValueError as exc:  # not a conversation at all: keep going, remember it
        summary.failed += 1
        summary.errors.append(f"{item.id}: malformed conversation ({exc})")
        sync.record_fetch_error(db, source.provider, item.id, None, f"malformed: {exc}")
        return
    outcome = save_conversation(db, flat)
    if outcome is SaveOutcome.NEW:
        summary.new += 1
    elif outcome is SaveOutcome.UPDATED:
        summary.updated += 1
    else:
        summary.unchanged += 1
    sync.resolve_fetch_error(db, source.provider, item.id)


__all__ = ["BackupOptions", "BackupSource", "BackupSummary", "run_backup"]
