"""The archive viewer: server-rendered HTML, a little JavaScript, no build step.

``GET /`` lists conversations (search box, provider and project filters, dates);
``GET /c/{id}`` shows one the way its chat app did: the current branch by default, and on every
message that has siblings (an edited prompt, a regenerated answer) a switcher ``‹ 2 / 3 ›``
(``data-branch="2/3"``) whose arrows show the branch through the neighbouring sibling
(``?node=<id>``). Messages are drawn by the HTML export's renderer (``message_html``).
"""

from __future__ import annotations

import html
import mimetypes
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from archiver.query.render import (
    ConversationRows,
    hidden_switch,
    message_html,
    meta_html,
    page_html,
    time_html,
)
from archiver.query.thread import is_message
from archiver.serve.common import context
from archiver.serve.readapi import (
    MAX_LIMIT,
    _int_param,
    list_conversations,
    load,
    load_from,
    read_archive,
)

PAGE_SIZE = 50
RASTER_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"}
)
_FILES = resources.files("archiver.serve")


def _template(name: str) -> Template:
    return Template(_FILES.joinpath("templates", name).read_text(encoding="utf-8"))


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def error_page(status: int, message: str) -> web.Response:
    """An error of a viewer route, as a page (escaped: the message may quote a request)."""
    body = f'<h1>{status}</h1><p>{_e(message)}</p><p><a href="/">‹ all conversations</a></p>'
    return web.Response(
        text=page_html(f"archiver: {status}", body), content_type="text/html", status=status
    )


def login_page(error: str = "", status: int = 200) -> web.Response:
    body = _template("login.html").substitute(error=_e(error))
    return web.Response(text=body, content_type="text/html", status=status)


# --- the list ----------------------------------------------------------------------------------


def _options(values: list[str], chosen: str, everything: str) -> str:
    out = [f'<option value="">{_e(everything)}</option>']
    for value in values:
        selected = " selected" if value == chosen else ""
        out.append(f'<option value="{_e(value)}"{selected}>{_e(value)}</option>')
    return "".join(out)


async def index(request: web.Request) -> web.Response:
    ctx = context(request)
    q = request.query.get("q", "").strip()
    provider = request.query.get("provider", "")
    project = request.query.get("project", "")
    offset = _int_param(request, "offset", 0)
    limit = _int_param(request, "limit", PAGE_SIZE, MAX_LIMIT)
    rows = list_conversations(
        ctx.db,
        offset=offset,
        limit=limit + 1,
        provider=provider or None,
        project=project or None,
        q=q or None,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    providers = [
        r[0] for r in ctx.db.execute("SELECT DISTINCT provider FROM conversations ORDER BY 1")
    ]
    projects = [
        r[0]
        for r in ctx.db.execute(
            "SELECT DISTINCT gizmo_id FROM conversations WHERE gizmo_id IS NOT NULL ORDER BY 1"
        )
    ]
    lines = []
    for row in rows:
        deleted = ' class="deleted"' if row["deleted_upstream_at"] else ""
        lines.append(
            f'<tr{deleted}><td dir="auto"><a href="/c/{quote(row["id"], safe="")}">'
            f"{_e(row['title'] or 'Untitled conversation')}</a></td>"
            f"<td>{_e(row['provider'])}</td><td>{_e(row['gizmo_id'] or '')}</td>"
            f'<td class="date">{time_html(row["update_time"] or "")}</td>'
            f'<td class="date">{time_html(row["create_time"] or "")}</td>'
            f"<td>{_e(row['source'])}</td></tr>"
        )
    base = {k: v for k, v in (("q", q), ("provider", provider), ("project", project)) if v}
    pages = []
    if offset:
        pages.append(
            f'<a href="/?{_e(urlencode({**base, "offset": max(0, offset - limit)}))}">‹ newer</a>'
        )
    if more:
        pages.append(f'<a href="/?{_e(urlencode({**base, "offset": offset + limit}))}">older ›</a>')
    shown = f"{offset + 1}–{offset + len(rows)}" if rows else "none"
    logout = ""
    if request.cookies.get("archiver_session"):
        logout = '<form method="post" action="/logout"><button>Sign out</button></form>'
    page = _template("list.html").substitute(
        heading=_e(q or "conversations"),
        q=_e(q),
        provider_options=_options(providers, provider, "every provider"),
        project_options=_options(projects, project, "every project"),
        count=f"Conversations {shown}" + (f" matching “{_e(q)}”" if q else ""),
        rows="\n".join(lines) or '<tr><td colspan="6">Nothing found.</td></tr>',
        pages=" ".join(pages),
        logout=logout,
    )
    return web.Response(text=page, content_type="text/html")


# --- one conversation --------------------------------------------------------------------------


def branch_view(
    messages: list[dict[str, Any]], current_node: str | None, node: str | None
) -> tuple[list[dict[str, Any]], dict[str | None, list[str]]]:
    """The rows to show (root first) for the branch through ``node`` (default: the current
    node), and every node's children in sibling order. Below ``node`` the branch follows the
    current branch where it can, else the newest child."""
    rows = {str(m["id"]): m for m in messages}
    order = {k: i for i, k in enumerate(rows)}
    parent: dict[str, str | None] = {
        k: (str(m["parent_id"]) if m.get("parent_id") in rows else None) for k, m in rows.items()
    }
    children: dict[str | None, list[str]] = {}
    for key in rows:
        children.setdefault(parent[key], []).append(key)
    for kids in children.values():
        kids.sort(key=lambda k: (rows[k].get("position") or 0, order[k]))
    if all(p is None for p in parent.values()):  # a flat list (Bing): no branches
        ordered = sorted(
            rows, key=lambda k: (rows[k].get("depth") or 0, rows[k].get("position") or 0, order[k])
        )
        return [rows[k] for k in ordered], {}
    target = node if node in rows else current_node if current_node in rows else None
    if target is None:  # no usable node: the flagged current branch
        flagged = [rows[k] for k in rows if rows[k].get("on_current_branch")]
        return sorted(flagged, key=lambda m: m.get("depth") or 0), children
    path: list[str] = []
    seen: set[str] = set()
    cursor: str | None = target
    while cursor is not None and cursor not in seen:
        seen.add(cursor)
        path.append(cursor)
        cursor = parent[cursor]
    path.reverse()
    cursor = target
    while children.get(cursor):
        kids = [k for k in children[cursor] if k not in seen]
        if not kids:
            break
        on_branch = [k for k in kids if rows[k].get("on_current_branch")]
        cursor = on_branch[0] if on_branch else kids[-1]
        seen.add(cursor)
        path.append(cursor)
    return [rows[k] for k in path], children


def switcher(
    conversation_id: str, row: dict[str, Any], children: dict[str | None, list[str]]
) -> str:
    parent = row.get("parent_id")
    siblings = children.get(parent if isinstance(parent, str) else None, [])
    node = str(row["id"])
    if len(siblings) < 2 or node not in siblings:
        return ""
    index = siblings.index(node)
    base = f"/c/{quote(conversation_id, safe='')}?node="

    def arrow(to: int, label: str, css: str, name: str) -> str:
        if 0 <= to < len(siblings):
            href = base + quote(siblings[to], safe="")
            return f'<a class="{css}" href="{_e(href)}" aria-label="{name}">{label}</a>'
        return f'<span class="{css}" aria-hidden="true">{label}</span>'

    return (
        f'<span class="branch" data-branch="{index + 1}/{len(siblings)}">'
        f"{arrow(index - 1, '‹', 'prev', 'previous version')} {index + 1} / {len(siblings)} "
        f"{arrow(index + 1, '›', 'next', 'next version')}</span>"
    )


def _file_path(row: dict[str, Any]) -> Path | None:
    """The bytes of an attachment on disk: extracted from an export, or in the file store
    beside the archive (downloaded by a backup)."""
    for key in ("extracted_path", "stored_path"):
        if row.get(key) and Path(str(row[key])).is_file():
            return Path(str(row[key]))
    return None


def _raster_type(row: dict[str, Any], path: Path) -> str | None:
    """The raster image type to serve a file inline as, or None. The file store names files
    by digest, so the type comes from the row, else from the file name. Only raster types: an
    SVG (or an HTML file) shown from the viewer's origin would run its scripts there."""
    kind = row.get("mime_type") or mimetypes.guess_type(path.name)[0]
    if not kind and row.get("file_name"):
        kind = mimetypes.guess_type(str(row["file_name"]))[0]
    kind = kind.split(";", 1)[0].strip().lower() if isinstance(kind, str) else ""
    return kind if kind in RASTER_TYPES else None


def _download_name(row: dict[str, Any], path: Path) -> str:
    """A file name for Content-Disposition: printable ASCII only (no quote, no backslash)."""
    name = str(row.get("file_name") or path.name)
    return "".join(c for c in name if " " <= c <= "~" and c not in '"\\') or "file"


def viewer_links(doc: ConversationRows) -> tuple[dict[str, str], set[str]]:
    """Asset pointer → this viewer's URL for the extracted file (the file store), and the URLs
    among them that may be shown inline (raster images)."""
    links: dict[str, str] = {}
    inline: set[str] = set()
    cid = quote(str(doc.conversation["id"]), safe="")
    for index, row in enumerate(doc.attachments):
        pointer = row.get("asset_pointer")
        path = _file_path(row)
        if isinstance(pointer, str) and path is not None:
            url = f"/file/{cid}/{index}"
            links[pointer] = links[pointer.split("://", 1)[-1]] = url
            if _raster_type(row, path):
                inline.add(url)
    return links, inline


def conversation_page(doc: ConversationRows, node: str | None) -> str:
    conv = doc.conversation
    cid = str(conv["id"])
    rows, children = branch_view(doc.messages, conv.get("current_node"), node)
    links, inline = viewer_links(doc)
    sections = [
        message_html(
            row,
            links,
            controls=switcher(cid, row, children),
            read=doc.read_blocks,
            inline=inline,
        )
        for row in rows
        if is_message(row)
    ]
    title = conv.get("title") or "Untitled conversation"
    meta = [
        ("Provider", conv.get("provider")),
        ("Created", conv.get("create_time")),
        ("Updated", conv.get("update_time")),
        ("Source", conv.get("source")),
        ("Deleted upstream", conv.get("deleted_upstream_at")),
    ]
    which = "current branch" if not node else "another branch"
    body = (
        '<p><a href="/">‹ all conversations</a></p>'
        f'<h1 dir="auto">{_e(title)}</h1>'
        + meta_html(meta)
        + f'<p class="note" data-showing="{_e(which)}">Showing the {_e(which)}'
        + (f' · <a href="/c/{quote(cid, safe="")}">back to the current branch</a>' if node else "")
        + "</p>"
        + hidden_switch(sum(s.hidden for s in sections))
        + "\n".join(s.html for s in sections)
    )
    return page_html(title, body, head='<script src="/static/viewer.js" defer></script>')


async def conversation(request: web.Request) -> web.Response:
    cid = request.match_info["id"]
    node = request.query.get("node") or None
    page = await read_archive(request, lambda db: conversation_page(load_from(db, cid), node))
    return web.Response(text=page, content_type="text/html")


async def attachment_file(request: web.Request) -> web.StreamResponse:
    """A file of the conversation's attachments (only those: the viewer must not become a way
    to read arbitrary files). A raster image is served inline; anything else as a download
    (``attachment``, ``application/octet-stream``), never rendered from the viewer's origin.
    Every answer is ``nosniff`` and sandboxed (security.FILE_CSP)."""
    doc = load(request)
    try:
        row = doc.attachments[int(request.match_info["index"])]
    except (ValueError, IndexError):
        raise web.HTTPNotFound() from None
    path = _file_path(row)
    if path is None:
        raise web.HTTPNotFound()
    kind = _raster_type(row, path)
    headers = {"Content-Type": kind or "application/octet-stream"}
    if kind is None:
        headers["Content-Disposition"] = f'attachment; filename="{_download_name(row, path)}"'
    return web.FileResponse(path, headers=headers)


async def static_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in ("viewer.css", "viewer.js"):
        raise web.HTTPNotFound()
    text = _FILES.joinpath("static", name).read_text(encoding="utf-8")
    kind = "text/css" if name.endswith(".css") else "application/javascript"
    return web.Response(text=text, content_type=kind)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/c/{id}", conversation)
    app.router.add_get("/file/{id}/{index}", attachment_file)
    app.router.add_get("/static/{name}", static_file)


__all__ = ["branch_view", "conversation_page", "login_page", "switcher"]
