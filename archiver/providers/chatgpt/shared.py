"""Shared-link audit: which conversations are publicly shared.

``shared_conversations?order=created`` is walked page by page and archived in ``shared_links``
(one transaction, after the whole list was read). Links the list no longer shows are marked
``deleted_upstream_at``, never deleted; a link that shows up again is unmarked."""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlite_utils

from archiver.errors import ArchiverError
from archiver.providers.chatgpt.account import AccountClient, open_account_client
from archiver.providers.chatgpt.account_parse import SharedLink, share_url
from archiver.providers.chatgpt.account_summary import CountingSummary
from archiver.providers.chatgpt.client import (
    DEFAULT_BASE_URL,
    DEFAULT_PACE,
    ChatGPTSettings,
    host_root,
)
from archiver.store import transaction
from archiver.store.extras import INSERT_SHARED_LINK, shared_link_values
from archiver.summary import Summary
from archiver.timeutil import utc_now_iso
from archiver.transport.pace import ClientPace


@dataclass
class SharedRefreshSummary(CountingSummary):
    label: str = "shared links"
    listed: int = 0
    new: int = 0
    relisted: int = 0
    marked_deleted: int = 0


@dataclass(frozen=True)
class SharedLinkRow:
    id: str
    url: str
    title: str | None
    create_time: str | None
    conversation_id: str | None
    archived: bool  # the conversation is in the archive
    deleted_upstream_at: str | None


@dataclass
class SharedReport(Summary):
    links: list[SharedLinkRow]
    refresh: SharedRefreshSummary | None = None
    removed: int = 0  # links no longer shared (not listed unless asked)

    @property
    def exit_code(self) -> int:
        return self.refresh.exit_code if self.refresh is not None else 0

    def counts(self) -> dict[str, int]:
        counts = {"links": len(self.links), "removed": self.removed}
        if self.refresh is not None:
            counts.update(self.refresh.counts())
        return counts

    def lines(self) -> list[str]:
        rows = []
        for link in self.links:
            title = link.title or "(untitled)"
            gone = (
                f"  [unshared {link.deleted_upstream_at[:10]}]" if link.deleted_upstream_at else ""
            )
            where = "" if link.archived else "  [conversation not archived]"
            created = (link.create_time or "")[:19].replace("T", " ") or "?"
            rows.append(f"{created}  {link.url}  {title}{where}{gone}")
        return rows

    def line(self) -> str:
        shared = sum(1 for link in self.links if not link.deleted_upstream_at)
        text = f"{shared} shared link(s)"
        if self.removed:
            text += f", {self.removed} no longer shared"
        if self.refresh is not None:
            text += f" ({self.refresh.line()})"
        return text


def store_shared_links(
    db: sqlite_utils.Database, account: str, links: list[SharedLink]
) -> tuple[int, int, int]:
    """Upsert a complete list and mark the account's links it lacks. Returns (new, relisted,
    marked_deleted)."""
    now = utc_now_iso()
    ids = json.dumps([link.id for link in links])
    with transaction(db) as conn:
        known = dict(
            conn.execute(
                "SELECT id, deleted_upstream_at FROM shared_links "
                "WHERE id IN (SELECT value FROM json_each(?))",
                [ids],
            ).fetchall()
        )
        for link in links:
            conn.execute(
                INSERT_SHARED_LINK + " ON CONFLICT (id) DO UPDATE SET "
                "account = excluded.account, conversation_id = excluded.conversation_id, "
                "title = excluded.title, create_time = excluded.create_time, "
                "update_time = excluded.update_time, is_anonymous = excluded.is_anonymous, "
                "raw_json = excluded.raw_json, last_seen_at = excluded.last_seen_at, "
                "deleted_upstream_at = NULL",
                shared_link_values(link, account, now),
            )
        marked = conn.execute(
            "UPDATE shared_links SET deleted_upstream_at = ? WHERE account = ? "
            "AND deleted_upstream_at IS NULL AND id NOT IN (SELECT value FROM json_each(?))",
            [now, account, ids],
        ).rowcount
    new = sum(1 for link in links if link.id not in known)
    relisted = sum(1 for link in links if known.get(link.id))
    return new, relisted, marked


async def sync_shared_links(
    db: sqlite_utils.Database, client: AccountClient
) -> SharedRefreshSummary:
    """Read the whole upstream list, then store it. A failure part-way stores nothing."""
    summary = SharedRefreshSummary()
    links: dict[str, SharedLink] = {}
    try:
        async for page in client.shared_pages():
            for link in page:
                links.setdefault(link.id, link)
    except ArchiverError as exc:
        summary.abort(exc)
    else:
        summary.listed = len(links)
        summary.new, summary.relisted, summary.marked_deleted = store_shared_links(
            db, client.settings.account, list(links.values())
        )
    summary.take_stats(client.http.stats)
    return summary


def shared_link_rows(
    db: sqlite_utils.Database, root: str, *, include_deleted: bool = False
) -> list[SharedLinkRow]:
    """Shared links joined to the archived conversations, oldest link first."""
    where = "" if include_deleted else "WHERE s.deleted_upstream_at IS NULL"
    rows = db.execute(
        "SELECT s.id, coalesce(s.title, c.title), s.create_time, s.conversation_id, "
        f"c.id IS NOT NULL, s.deleted_upstream_at FROM shared_links s "
        f"LEFT JOIN conversations c ON c.id = s.conversation_id {where} "
        "ORDER BY s.create_time, s.id"
    ).fetchall()
    return [
        SharedLinkRow(row[0], share_url(root, row[0]), row[1], row[2], row[3], bool(row[4]), row[5])
        for row in rows
    ]


async def shared_links_report(
    db: sqlite_utils.Database,
    *,
    settings: ChatGPTSettings | None = None,
    include_deleted: bool = False,
    pace: ClientPace = DEFAULT_PACE,
    base_url: str = DEFAULT_BASE_URL,
) -> SharedReport:
    """List the archive's shared links; with ``settings``, refresh them from upstream first.
    Link URLs are built on ``settings.base_url`` (or ``base_url`` without settings)."""
    refresh = None
    if settings is not None:
        async with open_account_client(settings, pace=pace) as client:
            refresh = await sync_shared_links(db, client)
        base_url = settings.base_url
    links = shared_link_rows(db, host_root(base_url), include_deleted=include_deleted)
    removed = db.execute(
        "SELECT count(*) FROM shared_links WHERE deleted_upstream_at IS NOT NULL"
    ).fetchone()[0]
    return SharedReport(
        links, refresh, removed, errors=list(refresh.errors) if refresh is not None else []
    )
