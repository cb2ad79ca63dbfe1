"""ChatGPT routes a 2026 account sees (docs/protocol/chatgpt.md): the session endpoint, Projects with
cursor paging, file downloads through same-host ``estuary`` URLs, and canvas textdocs."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

from aiohttp import web

from archiver.fakes.data import stable_fraction, stable_uuid
from archiver.fakes.state import STATE
from archiver.loosejson import Json
from archiver.providers.chatgpt.fake import routes as chatgpt
from archiver.providers.chatgpt.fake import send as chatgpt_send
from archiver.providers.chatgpt.fake.routes import chat_route, list_item
from archiver.providers.chatgpt.fake.world import ChatGPTWorld, ChatRecord, unauthorized, world_of

API = "/backend-api"
SESSION_COOKIE = "__Secure-next-auth.session-token"
ESTUARY = f"{API}/estuary/content"


# -- sign-in -------------------------------------------------------------------------------


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_jwt(claims: Json) -> str:
    """An unsigned-looking JWT: clients only read ``exp`` from the payload."""
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(claims).encode())
    signature = _b64url(hashlib.sha256(header.encode() + payload.encode()).digest())
    return f"{header}.{payload}.{signature}"


def session_cookie_of(request: web.Request) -> str | None:
    """The session token, whole or in ``.0``, ``.1``, ... chunks joined in order."""
    cookies = request.cookies
    if SESSION_COOKIE in cookies:
        return cookies[SESSION_COOKIE]
    chunks = []
    n = 0
    while f"{SESSION_COOKIE}.{n}" in cookies:
        chunks.append(cookies[f"{SESSION_COOKIE}.{n}"])
        n += 1
    return "".join(chunks) or None


async def auth_session(request: web.Request) -> web.Response:
    world = world_of(request)
    config = world.config
    cookie = session_cookie_of(request)
    if cookie is None or cookie not in world.session_cookies:
        return web.json_response({})  # signed out: 200 with an empty object
    now = time.time()
    exp = now + config.token_lifetime_s
    with world.lock:
        world.session_count += 1
        n = world.session_count
    token = make_jwt({"sub": "user-emulator", "exp": int(exp) if exp >= 1 else exp, "n": n})
    world.issued_tokens[token] = exp
    body = {
        "user": {"id": "user-emulator", "name": "Emulated User", "email": "user@example.com"},
        "expires": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now + 30 * 86400)),
        "accessToken": token,
        "authProvider": "auth0",
    }
    response = web.json_response(body)
    if config.rotate_session_cookie:
        renewed = f"{config.session_cookie}-renewed-{n}"
        world.session_cookies.add(renewed)
        response.set_cookie(SESSION_COOKIE, renewed, httponly=True, secure=True, samesite="Lax")
    return response


# -- projects ------------------------------------------------------------------------------


def _cursor(world: ChatGPTWorld, offset: int | None) -> Any:
    if offset is None:
        return None
    if world.config.cursor_form == "number":
        return offset
    return _b64url(json.dumps({"o": offset, "k": stable_uuid("cursor", offset)[:8]}).encode())


def _offset(raw: str | None) -> int | None:
    if raw in (None, "", "0", "null"):
        return 0
    assert raw is not None
    if raw.isdigit():
        return int(raw)
    try:
        padded = raw + "=" * (-len(raw) % 4)
        return int(json.loads(base64.urlsafe_b64decode(padded))["o"])
    except (ValueError, KeyError, TypeError):
        return None


def _bad_cursor() -> web.Response:
    return web.json_response({"detail": "Invalid cursor"}, status=400)


async def sidebar(request: web.Request) -> web.Response:
    world = world_of(request)
    offset = _offset(request.query.get("cursor"))
    if offset is None:
        return _bad_cursor()
    projects = world.live_projects()
    size = world.config.sidebar_page_size
    page = projects[offset : offset + size]
    items = []
    for gizmo in page:
        chats = world.project_chats(gizmo["id"])
        per = int(request.query.get("conversations_per_gizmo", "0") or 0)
        items.append(
            {
                "gizmo": {"gizmo": gizmo, "tools": [], "files": [], "product_features": {}},
                "conversations": {"items": [list_item_in(c) for c in chats[:per]]},
            }
        )
    more = offset + size < len(projects)
    return web.json_response(
        {"items": items, "cursor": _cursor(world, offset + size if more else None)}
    )


def list_item_in(rec: Any) -> Json:
    item = list_item(rec)
    item.update(gizmo_id=rec.gizmo_id, is_starred=False, snippet=None)
    return item


async def project_conversations(request: web.Request) -> web.Response:
    world = world_of(request)
    gizmo_id = request.match_info["gizmo_id"]
    vanished = list(world.projects)[: world.config.vanishing_projects]
    if gizmo_id not in world.projects or gizmo_id in world.deleted_projects or gizmo_id in vanished:
        return web.json_response({"detail": "Gizmo not found"}, status=404)
    try:
        limit = int(request.query.get("limit", "50"))
    except ValueError:
        limit = -1
    if not 0 < limit <= 50:
        error = {"loc": ["query", "limit"], "msg": "ensure this value is less than or equal to 50"}
        return web.json_response({"detail": [error]}, status=422)
    offset = _offset(request.query.get("cursor"))
    if offset is None:
        return _bad_cursor()
    size = min(limit, world.config.project_page_size)
    chats = world.project_chats(gizmo_id)
    page = chats[offset : offset + size]
    more = offset + size < len(chats)
    if world.config.repeat_cursor:
        cursor = _cursor(world, offset)  # the bug: the same cursor again, forever
        page = chats[:size]
    else:
        cursor = _cursor(world, offset + size if more else None)
    return web.json_response({"items": [list_item_in(c) for c in page], "cursor": cursor})


# -- files ---------------------------------------------------------------------------------


def file_gone(world: ChatGPTWorld, file_id: str) -> bool:
    if file_id in world.deleted_files:
        return True
    return stable_fraction(world.seed, "gone-file", file_id) < world.config.gone_file_rate


def file_bytes(world: ChatGPTWorld, file_id: str) -> bytes:
    size = world.config.file_size_bytes
    if size is None:
        size = 2_000 + int(stable_fraction(world.seed, "file-size", file_id) * 30_000)
    seed = hashlib.sha256(f"{world.seed}:{file_id}".encode()).digest()
    body = b"\x89PNG\r\n\x1a\n" + seed * (size // len(seed) + 1)
    return body[:size]


def _file_name(file_id: str) -> str:
    return f"{file_id}.png"


async def file_download(request: web.Request) -> web.Response:
    world = world_of(request)
    file_id = request.match_info["file_id"]
    if file_gone(world, file_id):
        return web.json_response({"detail": "File not found"}, status=404)
    sig = stable_uuid("sig", file_id)[:12]
    if world.config.file_url_base:
        url = f"{world.config.file_url_base.rstrip('/')}/files/{file_id}?sig={sig}"
    else:
        url = f"{request.scheme}://{request.host}{ESTUARY}?id={file_id}&sig={sig}"
    body = {
        "status": "success",
        "download_url": url,
        "file_name": _file_name(file_id),
        "file_size_bytes": len(file_bytes(world, file_id)),
        "mime_type": "image/png",
        "metadata": {},
    }
    return web.json_response(body)


async def estuary_content(request: web.Request) -> web.Response:
    """Same-host file bytes: need the bearer token (the middleware leaves this route alone)."""
    world = world_of(request)
    denied = web.json_response({"detail": "File stream access denied."}, status=403)
    if world.config.file_stream_denied:
        return denied
    auth = world.token_state(request.headers.get("Authorization"))
    if auth == "expired":
        return unauthorized()
    if auth != "ok":
        return denied
    file_id = request.query.get("id", "")
    if not file_id or file_gone(world, file_id):
        return web.json_response({"detail": "File not found"}, status=404)
    headers = {"Content-Disposition": f'attachment; filename="{_file_name(file_id)}"'}
    return web.Response(body=file_bytes(world, file_id), content_type="image/png", headers=headers)


# -- canvas ---------------------------------------------------------------------------------


def _has_canvas(detail: Json) -> bool:
    for node in (detail.get("mapping") or {}).values():
        message = node.get("message") if isinstance(node, dict) else None
        if not isinstance(message, dict):
            continue
        recipient = str(message.get("recipient") or "")
        name = str((message.get("author") or {}).get("name") or "")
        if recipient.startswith("canmore.") or name.startswith("canmore."):
            return True
    return False


@chat_route
async def textdocs(request: web.Request, rec: ChatRecord) -> web.Response:
    cid = rec.id
    if not _has_canvas(world_of(request).detail(rec)):
        return web.json_response([])
    doc_id = stable_uuid("textdoc", cid).replace("-", "")[:24]
    docs: list[Json] = [
        {
            "id": doc_id,
            "version": version,
            "title": "draft",
            "textdoc_type": "document",
            "content": f"# Draft\n\nVersion {version} of the canvas document.",
            "comments": [],
            "updated_at": rec.update_time - 60 * (2 - version),
        }
        for version in (1, 2)
    ]
    return web.json_response(docs)


def add_all_routes(app: web.Application) -> None:
    """ChatGPT's world (made now: it answers the fault middleware from the first request on)
    and its routes: the 2026 ones (sign-in, projects, files, canvas), then the rest."""
    world_of(app[STATE])
    add_routes(app)
    chatgpt_send.add_routes(app)  # the sentinel and f/conversation
    chatgpt.add_routes(app)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/auth/session", auth_session)
    app.router.add_get(f"{API}/gizmos/snorlax/sidebar", sidebar)
    app.router.add_get(f"{API}/gizmos/{{gizmo_id}}/conversations", project_conversations)
    app.router.add_get(f"{API}/files/download/{{file_id}}", file_download)
    app.router.add_get(f"{API}/files/{{file_id}}/download", file_download)
    app.router.add_get(ESTUARY, estuary_content)
    app.router.add_get(f"{API}/conversation/{{id}}/textdocs", textdocs)
