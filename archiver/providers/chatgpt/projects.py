"""ChatGPT Projects ("snorlax" gizmos): the sidebar list and each project's conversations.

Project conversations are not in the main list, so a backup walks ``gizmos/snorlax/sidebar``
(cursor paging until ``null``) and then ``gizmos/{id}/conversations`` per project (an opaque
cursor since 2026, a number before; ``limit`` at most 50; no ``total``). A cursor that repeats
stops the walk (a server bug must not become an endless loop). Parsing here is pure; the
``projects`` table is written by ``store/projects.py``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from archiver.backup.listing import ListItem
from archiver.errors import UpstreamError
from archiver.loosejson import as_dict, as_str
from archiver.providers.chatgpt.client import ChatGPTClient, parse_list_page
from archiver.store.projects import ProjectRow
from archiver.store.sync import mark_deleted_upstream

log = logging.getLogger("archiver.chatgpt.projects")

SIDEBAR_PATH = "gizmos/snorlax/sidebar"
SIDEBAR_LIMIT = 20
PROJECT_LIMIT = 50  # the server refuses more
MAX_PAGES = 10_000  # a backstop beyond the repeated-cursor check


Project = ProjectRow  # a sidebar project is stored as it is listed


def next_cursor(value: Any) -> str | None:
    """The cursor to send next: ``null``/missing/empty end the walk; numbers become text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(int(value))
    if isinstance(value, str) and value.strip():
        return value
    return None


def parse_sidebar_page(payload: Any) -> tuple[list[Project], str | None]:
    """``{"items":[{"gizmo":{"gizmo":{...}}, "conversations":{...}}], "cursor"}`` → projects."""
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        raise UpstreamError("the projects sidebar answered an unexpected shape")
    projects = []
    for item in payload["items"]:
        outer = as_dict(as_dict(item).get("gizmo"))
        gizmo = as_dict(outer.get("gizmo")) or outer  # some answers nest once, some twice
        ident = as_str(gizmo.get("id"))
        if not ident:
            continue
        display = as_dict(gizmo.get("display"))
        projects.append(
            Project(
                id=ident,
                name=as_str(display.get("name")) or as_str(gizmo.get("name")),
                description=as_str(display.get("description")),
                emoji=as_str(display.get("emoji")),
                raw=outer,
            )
        )
    return projects, next_cursor(payload.get("cursor"))


def parse_project_page(payload: Any) -> tuple[list[ListItem], str | None]:
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        raise UpstreamError("a project's conversation list answered an unexpected shape")
    return parse_list_page(payload), next_cursor(payload.get("cursor"))


class CursorRepeated(UpstreamError):
    """The server sent a cursor it had already sent: the walk stops (not an endless loop)."""


@dataclass
class SidebarWalk:
    projects: list[Project]
    complete: bool  # False when the walk stopped at a repeated cursor
    problem: str | None = None


async def sidebar_projects(client: ChatGPTClient) -> SidebarWalk:
    """Every project, in sidebar order, de-duplicated by id."""
    seen: dict[str, Project] = {}
    cursor: str | None = None
    sent: set[str] = set()
    for _ in range(MAX_PAGES):
        params = {"conversations_per_gizmo": "0", "limit": str(SIDEBAR_LIMIT)}
        if cursor is not None:
            params["cursor"] = cursor
        projects, cursor = parse_sidebar_page(await client.get_json(SIDEBAR_PATH, params))
        for project in projects:
            seen.setdefault(project.id, project)
        if cursor is None:
            return SidebarWalk(list(seen.values()), complete=True)
        if cursor in sent:
            break
        sent.add(cursor)
    problem = "the projects sidebar repeated a cursor: stopped paging it"
    log.warning(problem)
    return SidebarWalk(list(seen.values()), complete=False, problem=problem)


async def project_pages(
    client: ChatGPTClient, project_id: str, *, limit: int = PROJECT_LIMIT
) -> AsyncIterator[list[ListItem]]:
    """Pages of one project's conversations until the cursor is null (or repeats)."""
    cursor = "0"
    sent = {cursor}
    for _ in range(MAX_PAGES):
        params = {"cursor": cursor, "limit": str(min(limit, PROJECT_LIMIT))}
        items, following = parse_project_page(
            await client.get_json(f"gizmos/{project_id}/conversations", params)
        )
        yield items
        if following is None:
            return
        if following in sent:
            raise CursorRepeated(f"project {project_id} repeated a cursor: stopped paging it")
        sent.add(following)
        cursor = following


def mark_project_gone(db: sqlite_utils.Database, project_id: str) -> None:
    mark_deleted_upstream(db, project_id, "projects")
