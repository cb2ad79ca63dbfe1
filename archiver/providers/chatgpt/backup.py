"""ChatGPT as a BackupSource: the default and archived lists, every Project's list, the
``conversation/{id}`` details, their canvas documents, then the files messages point at."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import sqlite_utils

from archiver.backup.engine import BackupOptions, BackupSummary, run_backup
from archiver.backup.listing import ListItem
from archiver.backup.options import FileDownloads
from archiver.errors import (
    EXIT_FAILED,
    ArchiverError,
    NotFoundError,
    RateLimitExceeded,
    UpstreamError,
)
from archiver.flatten.records import FlatConversation
from archiver.progress import Progress
from archiver.providers.chatgpt.browser import with_device_id
from archiver.providers.chatgpt.canvas import has_canvas, parse_textdocs
from archiver.providers.chatgpt.client import DEFAULT_PACE, ChatGPTClient, ChatGPTSettings
from archiver.providers.chatgpt.files import download_files
from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.providers.chatgpt.options import PROVIDER
from archiver.providers.chatgpt.projects import (
    CursorRepeated,
    Project,
    mark_project_gone,
    project_pages,
    sidebar_projects,
)
from archiver.providers.chatgpt.signed import open_chatgpt_http
from archiver.providers.chatgpt.snapshots import snapshot_account
from archiver.store.filestore import store_beside
from archiver.store.projects import mark_projects_gone, save_projects
from archiver.store.textdocs import save_textdocs
from archiver.transport.pace import ClientPace
from archiver.transport.ratelimit import RateLimiter

log = logging.getLogger("archiver.chatgpt.backup")

FEED_DEFAULT = "conversations"
FEED_ARCHIVED = "archived"
PROJECT_FEED_PREFIX = "project:"


@dataclass(frozen=True)
class ChatGPTExtras:
    """What a 2026 account adds to a backup: Projects, canvas documents and files."""

    projects: bool = True
    textdocs: bool = True
    files: FileDownloads = field(default_factory=FileDownloads)


class ChatGPTBackup:
    provider = "chatgpt"

    def __init__(
        self,
        client: ChatGPTClient,
        *,
        include_archived: bool = True,
        db: sqlite_utils.Database | None = None,
        extras: ChatGPTExtras | None = None,
    ):
        self.client = client
        self.include_archived = include_archived
        self.lists_everything = include_archived
        self.account = client.settings.account
        self.base_url = client.settings.base_url
        self.db = db
        self.extras = extras or ChatGPTExtras(
            projects=False, textdocs=False, files=FileDownloads(download=False)
        )
        self.projects: list[Project] = []
        self.sidebar_complete = False
        self.problems: list[str] = []
        self.textdocs_saved = 0

    async def load_projects(self) -> None:
        """Walk the sidebar once, before the lists: each project becomes a feed of its own."""
        if not self.extras.projects:
            return
        try:
            walk = await sidebar_projects(self.client)
        except NotFoundError:  # an account or proxy without Projects
            log.info("no projects sidebar on this server")
            self.sidebar_complete = True
            return
        except UpstreamError as exc:
            if exc.exit_code != EXIT_FAILED or isinstance(exc, RateLimitExceeded):
                raise  # refused sign-in, challenge, saturated account: stop the run
            # What the main lists gave is kept; --full will not conclude anything.
            log.info("projects skipped this run: %s", exc)
            self.lists_everything = False
            return
        self.projects = walk.projects
        self.sidebar_complete = walk.complete
        if walk.problem:
            self.problems.append(walk.problem)
            self.lists_everything = False
        if self.db is not None and self.projects:
            save_projects(self.db, PROVIDER, self.account, self.projects)

    def feeds(self) -> list[str]:
        return [FEED_DEFAULT, FEED_ARCHIVED] if self.include_archived else [FEED_DEFAULT]

    async def more_feeds(self) -> list[str]:
        """After the main lists: the sidebar, then one feed per project."""
        await self.load_projects()
        return [PROJECT_FEED_PREFIX + p.id for p in self.projects]

    def list_pages(self, feed: str) -> AsyncIterator[list[ListItem]]:
        if feed.startswith(PROJECT_FEED_PREFIX):
            return self._project_feed(feed.removeprefix(PROJECT_FEED_PREFIX))
        return self.client.list_pages(archived=feed == FEED_ARCHIVED)

    async def _project_feed(self, project_id: str) -> AsyncIterator[list[ListItem]]:
        try:
            async for page in project_pages(self.client, project_id):
                yield [_in_project(item, project_id) for item in page]
        except NotFoundError:
            # Listed a moment ago, gone now: mark it (never delete), keep its chats.
            self.problems.append(f"project {project_id} disappeared upstream during the run")
            self.lists_everything = False
            if self.db is not None:
                mark_project_gone(self.db, project_id)
        except CursorRepeated as exc:
            self.problems.append(str(exc))
            self.lists_everything = False

    async def fetch(self, item: ListItem) -> Any:
        raw = await self.client.get_conversation(item.id)
        if self.extras.textdocs and self.db is not None and has_canvas(raw):
            await self._fetch_textdocs(item.id)
        return raw

    async def _fetch_textdocs(self, conversation_id: str) -> None:
        async def read_all(chunks: AsyncIterator[bytes]) -> bytes:
            return b"".join([chunk async for chunk in chunks])

        url = self.client.settings.url(f"conversation/{conversation_id}/textdocs")
        try:
            body = await self.client.http.request_stream(
                "GET", url, read_all, headers=self.client.settings.headers()
            )
        except NotFoundError:
            return  # none
        assert self.db is not None
        self.textdocs_saved += save_textdocs(self.db, conversation_id, parse_textdocs(body))

    def flatten(self, item: ListItem, raw: Any) -> FlatConversation:
        flat = flatten_conversation(
            raw,
            requested_id=item.id,
            account=self.account,
            list_update_time=item.update_time,
        )
        if not flat.conversation.get("gizmo_id") and item.raw.get("gizmo_id"):
            flat.conversation["gizmo_id"] = item.raw["gizmo_id"]  # the project it is listed in
        return flat

    def request_stats(self) -> dict[str, int]:
        return self.client.http.stats.counts()


def _in_project(item: ListItem, project_id: str) -> ListItem:
    if item.raw.get("gizmo_id"):
        return item
    return replace(item, raw={**item.raw, "gizmo_id": project_id})


async def backup_chatgpt(
    db: sqlite_utils.Database,
    settings: ChatGPTSettings,
    *,
    options: BackupOptions | None = None,
    include_archived: bool = True,
    pace: ClientPace = DEFAULT_PACE,
    progress: Progress | None = None,
    snapshot: bool = True,
    limiter: RateLimiter | None = None,
    extras: ChatGPTExtras | None = None,
) -> BackupSummary:
    """One backup run: one session, one limiter for the account, one retry policy.

    With ``snapshot`` the run first records the account endpoints (4 requests, see
    archiver.providers.chatgpt.snapshots); their failures are recorded, not fatal, except a refused
    token or a challenge page, which end the run before the list is walked.

    ``extras`` (default: everything on) adds Projects, canvas documents and file downloads
    into ``extras.files.store`` (default: ``<db>.files/`` beside the database).

    Pass ``limiter`` to own the account's limiter (the pace's ``max_rpm``/``burst`` are then
    ignored): after the run it tells whether a 429 pause is still running
    (``limiter.pause_remaining()``)."""
    extras = extras or ChatGPTExtras()
    options = options or BackupOptions()
    settings = with_device_id(db, settings)
    async with open_chatgpt_http(settings, pace, limiter=limiter) as http:
        source = ChatGPTBackup(
            ChatGPTClient(http, settings), include_archived=include_archived, db=db, extras=extras
        )
        try:
            await http.sign_in()
            if snapshot:
                await snapshot_account(db, source.client)
        except ArchiverError as exc:  # refused sign-in or a challenge: the lists would fail too
            stats = source.request_stats()
            return BackupSummary(
                source.provider,
                requests=stats["requests"],
                throttled=stats["throttled"],
                aborted=exc,
                errors=[str(exc)],
            )
        summary = await run_backup(db, source, options, progress)
        summary.errors.extend(source.problems)
        summary.extra["projects"] = len(source.projects)
        summary.extra["textdocs"] = source.textdocs_saved
        if summary.aborted is None and options.full and source.sidebar_complete:
            # Only a complete sidebar walk may conclude that a project it did not show is gone.
            summary.extra["projects_marked_deleted"] = mark_projects_gone(
                db, PROVIDER, settings.account, {p.id for p in source.projects}
            )
        if summary.aborted is None and extras.files.download:
            store = extras.files.store or store_beside(db)
            if store is not None:
                files = await download_files(
                    db,
                    source.client,
                    store,
                    max_bytes=extras.files.max_bytes,
                    concurrency=options.concurrency,
                )
                files.report_into(summary, "files")
        stats = source.request_stats()
        summary.requests = stats.get("requests", 0)
        summary.throttled = stats.get("throttled", 0)
        return summary
