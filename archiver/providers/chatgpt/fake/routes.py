"""ChatGPT ``backend-api`` REST routes: list, fetch, hide/rename, titles and account endpoints."""

from __future__ import annotations

import functools
import random
from collections.abc import Awaitable, Callable

from aiohttp import web

from archiver.fakes import data
from archiver.loosejson import Json
from archiver.providers.chatgpt.fake.generate import iso_time
from archiver.providers.chatgpt.fake.stream import append_exchange, post_conversation
from archiver.providers.chatgpt.fake.world import ChatRecord, world_of

API = "/backend-api"


def _not_found(cid: str) -> web.Response:
    return web.json_response({"detail": f"Can't load conversation {cid}"}, status=404)


ChatHandler = Callable[[web.Request, ChatRecord], Awaitable[web.Response]]


def chat_route(handler: ChatHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A route on one chat (``{id}``): the handler gets the chat upstream would still serve,
    or the client gets upstream's 404 without the handler running."""

    @functools.wraps(handler)
    async def route(request: web.Request) -> web.Response:
        cid = request.match_info["id"]
        rec = world_of(request).record(cid)
        if rec is None:
            return _not_found(cid)
        return await handler(request, rec)

    return route


def _invalid(field: str, msg: str, kind: str, ctx: Json | None = None) -> web.Response:
    error: Json = {"loc": ["query", field], "msg": msg, "type": kind}
    if ctx:
        error["ctx"] = ctx
    return web.json_response({"detail": [error]}, status=422)


def _paging(request: web.Request, default_limit: int) -> tuple[int, int] | web.Response:
    values = {}
    for name, default in (("offset", 0), ("limit", default_limit)):
        try:
            values[name] = int(request.query.get(name, default))
        except ValueError:
            return _invalid(name, "value is not a valid integer", "type_error.integer")
        if values[name] < 0:
            ctx = {"limit_value": 0}
            return _invalid(
                name,
                "ensure this value is greater than or equal to 0",
                "value_error.number.not_ge",
                ctx,
            )
    if values["limit"] > 100:
        ctx = {"limit_value": 100}
        return _invalid(
            "limit",
            "ensure this value is less than or equal to 100",
            "value_error.number.not_le",
            ctx,
        )
    return values["offset"], values["limit"]


def list_item(rec: ChatRecord) -> Json:
    # Form 3 cuts only update_time to whole seconds; create_time keeps its fraction.
    create_form = 0 if rec.time_form == 3 else rec.time_form
    return {
        "id": rec.id,
        "title": rec.title,
        "create_time": iso_time(rec.create_time, create_form),
        "update_time": iso_time(rec.update_time, rec.time_form),
        "mapping": None,
        "current_node": None,
        "conversation_template_id": None,
        "gizmo_id": None,
        "is_archived": rec.is_archived,
        "workspace_id": None,
    }


async def list_conversations(request: web.Request) -> web.Response:
    paging = _paging(request, 28)
    if isinstance(paging, web.Response):
        return paging
    offset, limit = paging
    archived = request.query.get("is_archived", "false").lower() == "true"
    records = world_of(request).listing(
        archived=archived, order=request.query.get("order", "updated")
    )
    return web.json_response(
        {
            "items": [list_item(r) for r in records[offset : offset + limit]],
            "total": len(records),
            "limit": limit,
            "offset": offset,
            "has_missing_conversations": False,
        }
    )


@chat_route
async def get_conversation(request: web.Request, rec: ChatRecord) -> web.Response:
    return web.json_response(world_of(request).detail(rec))


@chat_route
async def patch_conversation(request: web.Request, rec: ChatRecord) -> web.Response:
    body = await request.json()
    if body.get("is_visible") is False:
        rec.hidden = True
    if isinstance(body.get("title"), str):
        rec.title = body["title"]
    if isinstance(body.get("is_archived"), bool):
        rec.is_archived = body["is_archived"]
    return web.json_response({"success": True})


@chat_route
async def gen_title(request: web.Request, rec: ChatRecord) -> web.Response:
    cid = rec.id
    if rec.title not in (None, "New chat"):
        return web.json_response({"message": f"Conversation {cid} already has title '{rec.title}'"})
    body = await request.json()
    rec.title = data.title_for(random.Random(f"title:{cid}:{body.get('message_id')}"))
    return web.json_response({"title": rec.title})


async def shared_conversations(request: web.Request) -> web.Response:
    paging = _paging(request, 50)
    if isinstance(paging, web.Response):
        return paging
    offset, limit = paging
    shared = [r for r in world_of(request).records.values() if r.shared and not r.deleted]
    shared.sort(key=lambda r: r.create_time, reverse=True)
    items = []
    for rec in shared[offset : offset + limit]:
        item = list_item(rec)
        item.update(id=data.stable_uuid("share", rec.id), conversation_id=rec.id, is_archived=None)
        items.append(item)
    body = {"items": items, "total": len(shared), "limit": limit, "offset": offset}
    return web.json_response({**body, "has_missing_conversations": False})


async def accounts_check(request: web.Request) -> web.Response:
    plan = {
        "account_user_role": "account-owner",
        "has_customer_object": True,
        "is_paid_subscription_active": True,
        "subscription_expires_at_timestamp": 1_900_000_000,
        "subscription_plan": "chatgptplusplan",
        "was_paid_customer": True,
    }
    features = ["shareable_links", "gizmo_live", "beta_features", "data_export"]
    return web.json_response({"account_plan": plan, "user_country": "US", "features": features})


async def models(request: web.Request) -> web.Response:
    slugs = ("text-davinci-002-render-sha", "gpt-4", "gpt-4o", "o3")
    items = [
        {
            "slug": s,
            "max_tokens": 8191,
            "title": s,
            "description": f"The {s} model",
            "tags": [],
            "capabilities": {},
            "product_features": {},
        }
        for s in slugs
    ]
    category = {
        "category": "gpt_4",
        "human_category_name": "GPT-4",
        "subscription_level": "plus",
        "default_model": "gpt-4o",
    }
    return web.json_response({"models": items, "categories": [category]})


async def beta_features(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "browsing": True,
            "code_interpreter": True,
            "dalle": True,
            "plugins": False,
            "sunshine": False,
        }
    )


async def conversation_limit(request: web.Request) -> web.Response:
    disclaimer = {
        "model-switcher": "You've reached the GPT-4 cap, which gives all ChatGPT Plus users a "
        "chance to try the model.",
        "textarea": "GPT-4 currently has a cap of 40 messages every 3 hours.",
    }
    return web.json_response(
        {"message_cap": 40.0, "message_cap_window": 180.0, "message_disclaimer": disclaimer}
    )


async def data_export(request: web.Request) -> web.Response:
    return web.json_response({"status": "queued"})


@chat_route
async def touch(request: web.Request, rec: ChatRecord) -> web.Response:
    """Test hook: append a user+assistant turn to a conversation and bump its update_time."""
    answer = append_exchange(
        world_of(request), rec, f"Touched again ({rec.update_time:.0f})", "gpt-4o"
    )
    return web.json_response(
        {"conversation_id": rec.id, "update_time": rec.update_time, "message_id": answer["id"]}
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get(f"{API}/conversations", list_conversations)
    app.router.add_get(f"{API}/conversation/{{id}}", get_conversation)
    app.router.add_patch(f"{API}/conversation/{{id}}", patch_conversation)
    app.router.add_post(f"{API}/conversation/gen_title/{{id}}", gen_title)
    app.router.add_post(f"{API}/conversation", post_conversation)
    app.router.add_get(f"{API}/shared_conversations", shared_conversations)
    app.router.add_get(f"{API}/accounts/check", accounts_check)
    app.router.add_get(f"{API}/models", models)
    app.router.add_get(f"{API}/settings/beta_features", beta_features)
    app.router.add_post(f"{API}/accounts/data_export", data_export)
    app.router.add_get("/public-api/conversation_limit", conversation_limit)
    app.router.add_post("/_emulator/touch/{id}", touch)
