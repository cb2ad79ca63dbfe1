"""The fake OpenAI-compatible API of ``archiver emulator`` (``make demo``, the benchmark, the
end-to-end tests), under ``/v1``: chat completions with rate-limit headers and 429s, files,
batches whose status moves with time, result files in random order with an error file, and
``/v1/models``. Its world and knobs are in ``emulator_world.py``; ``/_emulator/openai`` gives
its counters (uploads, batches created, answers, 429s, requests answered twice).

The shared fault middleware (latency, 5xx, dropped connections) applies to these routes too;
the rate limits here are the API's own (per key, ``x-ratelimit-*``, ``retry-after-ms``)."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from archiver.fakes.state import STATE
from archiver.providers.openai.emulator_world import (
    MODELS,
    Batch,
    OpenAIEmulatorConfig,
    StoredFile,
    World,
    api_error,
    estimate,
)
from archiver.providers.openai.options import BASE_URL_ENV, KEY_ENV, PROVIDER

__all__ = ["OpenAIEmulatorConfig", "add_routes", "world"]

Route = Callable[[web.Request], Awaitable[web.Response]]
Refusal = Callable[[web.Request], web.Response | None]


def world(request: web.Request) -> World:
    return request.app[STATE].provider_state(PROVIDER, World)


def _refused_key(request: web.Request) -> web.Response | None:
    """401 as the API words it: the message echoes the key masked (first and last characters)."""
    auth = request.headers.get("Authorization", "")
    if auth == f"Bearer {world(request).config.key}":
        return None
    given = auth.removeprefix("Bearer ").strip()
    if not given:
        body = api_error(
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "invalid_request_error",
            None,
        )
    else:
        masked = f"{given[:3]}****{given[-4:]}" if len(given) > 8 else "****"
        body = api_error(
            f"Incorrect API key provided: {masked}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        )
    return web.json_response(body, status=401)


def behind(refusal: Refusal) -> Callable[[Route], Route]:
    """The route answered only when ``refusal`` lets the request through (None); its answer
    otherwise (a refused key, an endpoint this server does not have)."""

    def wrap(route: Route) -> Route:
        @functools.wraps(route)
        async def guarded(request: web.Request) -> web.Response:
            refused = refusal(request)
            return refused if refused is not None else await route(request)

        return guarded

    return wrap


def _headers(world: World, key: str) -> dict[str, str]:
    requests, tokens = world.buckets_for(key)
    headers = {"x-request-id": f"req_{world.new_id('')}", "openai-version": "2020-10-01"}
    if requests is not None:
        headers.update(requests.headers("requests"))
    if tokens is not None:
        headers.update(tokens.headers("tokens"))
    return headers


async def _json(request: web.Request) -> Any:
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):
        return None


@behind(_refused_key)
async def chat_completions(request: web.Request) -> web.Response:
    w = world(request)
    body = await _json(request)
    if not isinstance(body, dict):
        error = api_error(
            "We could not parse the JSON body of your request.", "invalid_request_error", None
        )
        return web.json_response(error, status=400)
    key = request.headers["Authorization"]
    if w.config.insufficient_quota:
        w.count("insufficient_quota")
        error = api_error(
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            "insufficient_quota",
        )
        return web.json_response(error, status=429, headers=_headers(w, key))
    requests, tokens = w.buckets_for(key)
    cost = estimate(body)
    waits = {
        name: bucket.wait_for(need)
        for name, bucket, need in (("requests", requests, 1), ("tokens", tokens, cost))
        if bucket is not None
    }
    if any(waits.values()):
        name = max(waits, key=lambda n: waits[n])
        return _throttled(w, key, name, waits[name], body, cost)
    for bucket, need in ((requests, 1), (tokens, cost)):
        if bucket is not None:
            bucket.take(need)
    w.count("tokens_charged", cost)
    status, answer = w.answer(body)
    w.count("completions" if status == 200 else f"completions_{status}")
    return web.json_response(answer, status=status, headers=_headers(w, key))


def _throttled(
    w: World, key: str, name: str, wait: float, body: dict[str, Any], cost: int
) -> web.Response:
    w.count("rate_limited")
    requests, tokens = w.buckets_for(key)
    bucket = requests if name == "requests" else tokens
    assert bucket is not None
    unit = "requests per min (RPM)" if name == "requests" else "tokens per min (TPM)"
    asked = 1 if name == "requests" else cost
    message = (
        f"Rate limit reached for {body.get('model')} in organization org-emulator on {unit}: "
        f"Limit {bucket.limit}, Used {bucket.limit - max(0, int(bucket.level))}, Requested "
        f"{asked}. Please try again in {wait:.3f}s. Visit https://platform.openai.com/account/"
        "rate-limits to learn more."
    )
    headers = _headers(w, key)
    if w.config.retry_after:
        headers["retry-after-ms"] = str(math.ceil(wait * 1000))
        headers["retry-after"] = str(max(1, math.ceil(wait)))
    error = api_error(message, name, "rate_limit_exceeded")
    return web.json_response(error, status=429, headers=headers)


@behind(_refused_key)
async def models(request: web.Request) -> web.Response:
    data = [
        {"id": m, "object": "model", "created": 1700000000, "owned_by": "system"} for m in MODELS
    ]
    return web.json_response({"object": "list", "data": data})


def _no_batches(request: web.Request) -> web.Response | None:
    """The Batch API's refusal: the key's, or no such endpoint on a server without batches."""
    if world(request).config.batches:
        return _refused_key(request)
    return web.Response(status=404, text="404 page not found")  # what Ollama answers


@behind(_no_batches)
async def upload(request: web.Request) -> web.Response:
    w = world(request)
    form = await request.post()
    purpose, part = form.get("purpose"), form.get("file")
    if purpose != "batch" or not isinstance(part, web.FileField):
        error = api_error(
            "Both 'purpose' (batch) and 'file' are required.", "invalid_request_error", None
        )
        return web.json_response(error, status=400)
    if not part.filename.endswith(".jsonl"):
        error = api_error(
            "Invalid file format for Batch API. Must be .jsonl", "invalid_request_error", None
        )
        return web.json_response(error, status=400)
    stored = StoredFile(
        w.new_id("file-"), part.filename, "batch", part.file.read(), int(time.time())
    )
    w.files[stored.id] = stored
    w.count("uploads")
    return web.json_response(stored.object())


_MISSING = {"files": "No such File object: {id}", "batches": "No batch found with id '{id}'."}


def _lookup(request: web.Request, table: str) -> Any:
    """The file or batch the path names (``table``: ``files`` or ``batches``), or the answer
    to give instead: 404 as the API words it."""
    ident = request.match_info["id"]
    found = getattr(world(request), table).get(ident)
    if found is None:
        message = _MISSING[table].format(id=ident)
        return web.json_response(api_error(message, "invalid_request_error", None), status=404)
    return found


@behind(_no_batches)
async def file_object(request: web.Request) -> web.Response:
    found = _lookup(request, "files")
    return found if isinstance(found, web.Response) else web.json_response(found.object())


@behind(_no_batches)
async def file_content(request: web.Request) -> web.Response:
    found = _lookup(request, "files")
    if isinstance(found, web.Response):
        return found
    return web.Response(body=found.content, content_type="application/octet-stream")


@behind(_no_batches)
async def create_batch(request: web.Request) -> web.Response:
    w = world(request)
    body = await _json(request)
    problem = None
    if not isinstance(body, dict) or body.get("input_file_id") not in w.files:
        problem = "input_file_id must name an uploaded file"
    elif body.get("endpoint") != "/v1/chat/completions":
        problem = "endpoint must be /v1/chat/completions"
    elif body.get("completion_window") != "24h":
        problem = "completion_window must be 24h"
    if problem is not None:
        return web.json_response(api_error(problem, "invalid_request_error", None), status=400)
    assert isinstance(body, dict)
    found = body.get("metadata")
    metadata: dict[str, Any] = found if isinstance(found, dict) else {}
    batch = Batch(w.new_id("batch_"), body["input_file_id"], metadata, w.clock(), int(time.time()))
    w.batches[batch.id] = batch
    w.count("batches_created")
    return web.json_response(w.batch_object(batch))


@behind(_no_batches)
async def get_batch(request: web.Request) -> web.Response:
    found = _lookup(request, "batches")
    if isinstance(found, web.Response):
        return found
    world(request).count("polls")
    return web.json_response(world(request).batch_object(found))


@behind(_no_batches)
async def cancel_batch(request: web.Request) -> web.Response:
    found = _lookup(request, "batches")
    if isinstance(found, web.Response):
        return found
    found.cancelled = True
    return web.json_response(world(request).batch_object(found))


@behind(_no_batches)
async def list_batches(request: web.Request) -> web.Response:
    w = world(request)
    newest = sorted(w.batches.values(), key=lambda b: b.created, reverse=True)
    after = request.query.get("after")
    if after is not None:
        ids = [b.id for b in newest]
        newest = newest[ids.index(after) + 1 :] if after in ids else []
    limit = max(1, min(100, int(request.query.get("limit", "20"))))
    page = [w.batch_object(b) for b in newest[:limit]]
    return web.json_response(
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(newest) > limit,
        }
    )


async def stats(request: web.Request) -> web.Response:
    return web.json_response(world(request).stats())


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/files", upload)
    app.router.add_get("/v1/files/{id}", file_object)
    app.router.add_get("/v1/files/{id}/content", file_content)
    app.router.add_post("/v1/batches", create_batch)
    app.router.add_get("/v1/batches", list_batches)
    app.router.add_get("/v1/batches/{id}", get_batch)
    app.router.add_post("/v1/batches/{id}/cancel", cancel_batch)
    app.router.add_get("/_emulator/openai", stats)


ITEM_ROUTES: frozenset[str] = frozenset()  # an API keeps no history to back up


def default_config() -> OpenAIEmulatorConfig:
    return OpenAIEmulatorConfig()


def environment(base_url: str) -> dict[str, str]:
    return {KEY_ENV: OpenAIEmulatorConfig().key, BASE_URL_ENV: f"{base_url}/v1"}
