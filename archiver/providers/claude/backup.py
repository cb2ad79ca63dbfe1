"""Claude as a BackupSource for the shared engine, then its projects' knowledge and its files.

The walk: ``/api/organizations``; for each organization with the chat capability, its
projects (into ``projects``) and three lists (everything, ``archived=true``, ``starred=true``:
whichever way the whole list treats archived and starred chats, all are listed; the engine
drops repeats). Each list is paged to its end and handed to the engine newest first, so a run
with nothing new makes list requests only. A changed conversation is fetched whole
(``tree=True&rendering_mode=messages&render_all_tools=true``) and its artifacts' versions
kept (``textdocs``). After the conversations: the documents of projects that changed, the
pasted attachments' text and the uploaded files, into the file store."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from archiver.backup.client_source import list_page, newest_first
from archiver.backup.engine import BackupOptions, BackupSummary, run_backup
from archiver.backup.listing import ListItem
from archiver.backup.options import BackupRun, FileDownloads, with_option_values
from archiver.errors import (
    EXIT_FAILED,
    ArchiverError,
    AuthError,
    NotFoundError,
    RateLimitExceeded,
    ThrottledUntil,
    UpstreamError,
)
from archiver.flatten.records import FlatConversation
from archiver.providers.claude.artifacts import artifact_versions
from archiver.providers.claude.client import (
    LIST_FILTERS,
    ClaudeClient,
    ClaudeSettings,
    new_claude_http,
)
from archiver.providers.claude.files import FileSummary, download_files
from archiver.providers.claude.flatten import flatten_tree
from archiver.providers.claude.knowledge import project_knowledge
from archiver.providers.claude.options import DEFAULT_BACKUP_RPM, PROVIDER
from archiver.providers.claude.parse import (
    Organization,
    Project,
    chat_organizations,
    is_session_refusal,
)
from archiver.providers.claude.pasted import store_pasted
from archiver.providers.claude.projects import (
    changed_projects,
    project_rows,
    remember_docs_read,
)
from archiver.store.filestore import store_beside
from archiver.store.projects import mark_projects_gone, save_projects
from archiver.store.runs import remember_throttle_stop
from archiver.store.save import save_conversation
from archiver.store.textdocs import save_textdocs
from archiver.transport.pace import ClientPace, paced_http

log = logging.getLogger("archiver.claude.backup")
FEED_SEPARATOR = "/"
DEFAULT_RUN = BackupRun(ClientPace(DEFAULT_BACKUP_RPM))


@dataclass(frozen=True)
class OwnedProject:
    org: str
    project: Project


def _stops_the_run(exc: UpstreamError) -> bool:
    """A refused session, a challenge, a saturated account: nothing else would succeed."""
    if isinstance(exc, AuthError):
        return is_session_refusal(exc)
    return exc.exit_code != EXIT_FAILED or isinstance(exc, RateLimitExceeded)


class ClaudeSource:
    provider = PROVIDER

    def __init__(self, client: ClaudeClient, db: sqlite_utils.Database | None = None):
        self.client = client
        self.db = db
        self.account = client.settings.account
        self.base_url = client.settings.base_url
        self.lists_everything = True  # until an organization or a list could not be read
        self.orgs: list[Organization] = []
        self.org_of: dict[str, str] = {}  # conversation uuid -> its organization
        self.projects: list[OwnedProject] = []
        self.changed: list[Project] = []  # new or changed this run: their documents are read
        self.projects_complete = True
        self.problems: list[str] = []
        self.artifact_versions = 0

    def _skip(self, what: str, exc: UpstreamError) -> None:
        if _stops_the_run(exc):
            raise exc
        self.lists_everything = False
        self.problems.append(f"{what}: {exc}")
        log.warning("%s skipped this run: %s", what, exc)

    def feeds(self) -> list[str]:
        return []  # the organizations are known only once the first request answered

    async def more_feeds(self) -> list[str]:
        self.orgs = chat_organizations(await self.client.organizations())
        if not self.orgs:
            self.lists_everything = False
            self.problems.append("no organization of this account has the chat capability")
        feeds = []
        for org in self.orgs:
            await self._load_projects(org)
            feeds += [f"{org.uuid}{FEED_SEPARATOR}{name}" for name in LIST_FILTERS]
        return feeds

    async def _load_projects(self, org: Organization) -> None:
        try:
            projects = await self.client.projects(org.uuid)
        except NotFoundError:
            return  # an organization (or a proxy) without Projects
        except UpstreamError as exc:
            self.projects_complete = False
            self._skip(f"projects of organization {org.uuid}", exc)
            return
        if self.db is not None and projects:
            self.changed += changed_projects(self.db, projects, self.account)
            save_projects(self.db, PROVIDER, self.account, project_rows(projects))
        self.projects += [OwnedProject(org.uuid, p) for p in projects]

    async def list_pages(self, feed: str) -> AsyncIterator[list[ListItem]]:
        org, _, name = feed.partition(FEED_SEPARATOR)
        try:
            page = await self.client.list_all(org, LIST_FILTERS[name])
        except UpstreamError as exc:
            self._skip(f"the {name} list of organization {org}", exc)
            return
        for chat in page.chats:
            self.org_of.setdefault(chat.conversation_id, org)
        yield list_page(newest_first(page.chats), page.unreadable)

    async def fetch(self, item: ListItem) -> Any:
        org = self.org_of.get(item.id)
        candidates = [org] if org else [o.uuid for o in self.orgs]
        for index, candidate in enumerate(candidates):
            try:
                raw = await self.client.conversation(candidate, item.id)
            except NotFoundError:
                if index + 1 == len(candidates):
                    raise
                continue
            self.org_of[item.id] = candidate
            self._keep_artifacts(item.id, raw)
            return raw
        raise NotFoundError(f"conversation {item.id}: no organization to fetch it from")

    def _keep_artifacts(self, conversation_id: str, raw: Any) -> None:
        messages = raw.get("chat_messages") if isinstance(raw, dict) else None
        if self.db is None or not isinstance(messages, list):
            return
        messages = [m for m in messages if isinstance(m, dict)]
        self.artifact_versions += save_textdocs(
            self.db, conversation_id, artifact_versions(conversation_id, messages)
        )

    def flatten(self, item: ListItem, raw: Any) -> FlatConversation:
        return flatten_tree(
            raw,
            list_entry=item.raw,
            requested_id=item.id,
            account=self.account,
            list_update_time=item.update_time,
        )

    def request_stats(self) -> dict[str, int]:
        return self.client.http.stats.counts()


async def save_knowledge(
    db: sqlite_utils.Database, source: ClaudeSource, summary: BackupSummary
) -> None:
    """The documents of every project new or changed this run, as its knowledge conversation."""
    owners = {p.project.uuid: p.org for p in source.projects}
    saved = 0
    for project in source.changed:
        try:
            docs = await source.client.project_docs(owners[project.uuid], project.uuid)
        except NotFoundError:  # none to read (a proxy without them): not asked again
            remember_docs_read(db, source.account, project.uuid, project.updated_at)
            continue
        except UpstreamError as exc:
            if _stops_the_run(exc):
                raise
            summary.failed_extra = True  # read again next run
            summary.errors.append(f"documents of project {project.uuid}: {exc}")
            continue
        flat = project_knowledge(project.raw, docs, source="api", account=source.account)
        if flat is not None:
            save_conversation(db, flat)
            saved += 1
        remember_docs_read(db, source.account, project.uuid, project.updated_at)
    summary.extra["project_knowledge"] = saved


async def backup_claude(
    db: sqlite_utils.Database,
    settings: ClaudeSettings,
    run: BackupRun = DEFAULT_RUN,
) -> BackupSummary:
    """One backup run: one session, one limiter for the account, one retry policy. No
    ``run.files.download``: no download (pasted text is still stored: it needs no request)."""
    options = run.options or BackupOptions()
    async with paced_http(run.pace, new_claude_http) as http:
        source = ClaudeSource(ClaudeClient(http, settings), db)
        summary = await run_backup(db, source, options, run.progress)
        summary.errors.extend(source.problems)
        summary.extra["projects"] = len(source.projects)
        summary.extra["artifact_versions"] = source.artifact_versions
        if summary.aborted is None:
            try:
                await _after_conversations(db, source, summary, options, run.files)
            except ArchiverError as exc:
                summary.abort(exc)
        stats = source.request_stats()
        summary.requests = stats.get("requests", 0)
        summary.throttled = stats.get("throttled", 0)
    if isinstance(summary.aborted, ThrottledUntil):  # cron skips until the wait is over
        remember_throttle_stop(db, PROVIDER, settings.account, summary.aborted)
    return summary


async def _after_conversations(
    db: sqlite_utils.Database,
    source: ClaudeSource,
    summary: BackupSummary,
    options: BackupOptions,
    files: FileDownloads,
) -> None:
    await save_knowledge(db, source, summary)
    if options.full and source.projects_complete and source.orgs:
        seen = {p.project.uuid for p in source.projects}
        summary.extra["projects_marked_deleted"] = mark_projects_gone(
            db, PROVIDER, source.account, seen
        )
    store = files.store or store_beside(db)
    if store is None:
        return
    results = FileSummary(pasted=store_pasted(db, store))
    if files.download:
        await download_files(
            db, source.client, store, source.org_of, max_bytes=files.max_bytes, summary=results
        )
    results.report_into(summary, "files")  # failed or deferred: retried next time, partial


back_up = with_option_values(backup_claude)  # ``archiver backup claude`` (modules.BackupModule)


__all__ = ["DEFAULT_RUN", "ClaudeSource", "back_up", "backup_claude"]
