"""``make_app``: the gateway's aiohttp application, and ``serve`` to run it until a signal.

Middlewares, outermost first:
- guard: a request for another Host (DNS rebinding) or a foreign page's state-changing
  request (Origin) is refused before anything else (``security.py``, which also sets the
  security headers of every answer: CSP, nosniff, no framing);
- errors: every expected failure becomes JSON (OpenAI-shaped under /v1), never a traceback;
- body cap: a declared Content-Length over ``max_body`` is refused before it is read (and
  aiohttp's ``client_max_size`` stops chunked bodies at the same size);
- auth: API routes need a key (``Authorization: Bearer <key>`` or the bare key); the viewer
  needs none on a loopback address and a key (or the login cookie) anywhere else; then the
  per-key request rate.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any

import sqlite_utils
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from archiver.batch.sender import open_sender
from archiver.errors import (
    ArchiverError,
)
from archiver.providers import registry
from archiver.serve import mcproute, openai, readapi, seed000, seed004, viewer
from archiver.serve.common import (
    CONTEXT,
    KEY,
    ApiError,
    ServeContext,
    ServeOptions,
    context,
    read_body,
)
from archiver.serve.errors import as_api_error
from archiver.serve.gateway import AccountGateway
from archiver.serve.keys import KeyRates, find_key, presented_key, touch_key
from archiver.serve.security import guard_middleware, protect
from archiver.serve.senders import default_provider, route_families
from archiver.transport.ratelimit import RateLimiter

log = logging.getLogger("archiver.serve")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SESSION_COOKIE = "archiver_session"
VIEWER_PREFIXES = ("/c/", "/file/", "/static/")
VIEWER_PATHS = ("/", "/login", "/logout")


def is_viewer_path(path: str) -> bool:
    return path in VIEWER_PATHS or path.startswith(VIEWER_PREFIXES)


# --- errors ------------------------------------------------------------------------------------


# How aiohttp serves the gateway's connections. No lingering: after an answer to a request
# whose body was not read (too big, too slow), aiohttp would otherwise keep reading that body
# for up to 10 s, which a trickling client stretches to the full 10 s per connection; the
# connection is closed at once instead.
HANDLER_ARGS: dict[str, Any] = {"lingering_time": 0.0}


def error_response(request: web.Request, error: ApiError) -> web.Response:
    if is_viewer_path(request.path):  # a person's browser: a page, not JSON
        return viewer.error_page(error.status, error.message)
    headers = {}
    if error.retry_after is not None:
        seconds = max(1, int(error.retry_after + 0.999))
        headers["Retry-After"] = str(seconds)
        headers["retry-after-ms"] = str(int(error.retry_after * 1000))
    if request.path.startswith("/v1/"):
        body: dict[str, Any] = {
            "error": {
                "message": error.message,
                "type": error.type,
                "param": error.param,
                "code": error.code,
            }
        }
    else:
        body = {"detail": error.message, "type": error.type, "code": error.code}
    return web.json_response(body, status=error.status, headers=headers)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(request, exc)
    except ArchiverError as exc:
        return error_response(request, as_api_error(exc))
    except web.HTTPRequestEntityTooLarge:
        limit = context(request).options.max_body
        return error_response(
            request, ApiError(413, f"request body over the gateway's cap of {limit} bytes")
        )
    except web.HTTPException as exc:
        if exc.status >= 400:
            return error_response(request, ApiError(exc.status, exc.reason, code=str(exc.status)))
        raise
    except ConnectionResetError:
        raise  # the client left: nobody to answer
    except Exception:
        # A bug: the traceback goes to the log (no secret is in it: settings never print
        # theirs), the client gets JSON it can parse.
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(
            request, ApiError(500, "internal error of the gateway", type="server_error")
        )


# --- body cap ----------------------------------------------------------------------------------


@web.middleware
async def body_cap_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    limit = context(request).options.max_body
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"request body over the gateway's cap of {limit} bytes")
    return await handler(request)


# --- auth --------------------------------------------------------------------------------------


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    ctx = context(request)
    request[KEY] = None
    if request.method == "OPTIONS" and ctx.options.cors_origin:
        return await handler(request)
    key = None
    presented = presented_key(request.headers.get("Authorization"))
    if presented is not None:
        key = find_key(ctx.db, presented)
    elif is_viewer_path(request.path):
        token = request.cookies.get(SESSION_COOKIE)
        key_id = ctx.viewer_sessions.get(token) if token else None
        if key_id is not None:
            key = _key_by_id(ctx, key_id)
    if is_viewer_path(request.path):
        if key is None and ctx.require_keys_for_viewer and request.path not in ("/login",):
            if request.path.startswith("/static/"):
                return await handler(request)  # the stylesheet of the login page
            raise web.HTTPSeeOther("/login")
    elif key is None:
        message = "an API key is required (Authorization: Bearer <key>)"
        if presented is not None:
            message = "the API key was refused (unknown or revoked)"
        raise ApiError(401, message, type="authentication_error", code="invalid_api_key")
    if key is not None and not request.path.startswith("/static/"):
        # A page's stylesheet and script are not requests of their own against the key's rate.
        wait = ctx.rates.take(key.id)
        if wait is not None:
            raise ApiError(
                429,
                f"this API key's request rate on the gateway is used up (a limit of this "
                f"gateway, not of the upstream account): retry in {int(wait + 0.999)} s",
                type="gateway_rate_limited",
                code="key_rate_limited",
                retry_after=wait,
            )
        touch_key(ctx.db, key.id)
    request[KEY] = key
    return await handler(request)


def _key_by_id(ctx: ServeContext, key_id: int) -> Any:
    from archiver.serve.keys import list_keys

    for key in list_keys(ctx.db):
        if key.id == key_id and key.revoked_at is None:
            return key
    return None


async def login_post(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    form = await read_body(request, request.post())
    presented = presented_key(str(form.get("key") or ""))
    key = find_key(ctx.db, presented) if presented else None
    if key is None:
        return viewer.login_page(error="That key was refused.", status=401)
    token = secrets.token_urlsafe(32)
    ctx.viewer_sessions[token] = key.id
    response = web.HTTPSeeOther("/")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=False,  # the gateway serves plain HTTP; put TLS in front when exposing it
        path="/",
    )
    raise response


async def login_get(request: web.Request) -> web.StreamResponse:
    return viewer.login_page()


async def logout(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        context(request).viewer_sessions.pop(token, None)
    response = web.HTTPSeeOther("/")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


# --- CORS (off unless asked) -------------------------------------------------------------------


def _cors(app: web.Application, origin: str) -> None:
    """The API only: the viewer needs no key on loopback, so opening it to another origin's
    scripts would hand them the archive."""

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        if request.headers.get("Origin") == origin and not is_viewer_path(request.path):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            response.headers["Access-Control-Allow-Headers"] = (
                "Authorization, Content-Type, X-Archiver-Conversation"
            )
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
            response.headers["Access-Control-Expose-Headers"] = "X-Archiver-Conversation"

    async def preflight(request: web.Request) -> web.Response:
        if is_viewer_path(request.path):
            raise web.HTTPForbidden()
        return web.Response(status=204)

    app.on_response_prepare.append(add_headers)
    app.router.add_route("OPTIONS", "/{tail:.*}", preflight)


# --- the accounts ------------------------------------------------------------------------------


def _accounts(ctx: ServeContext) -> Callable[[web.Application], AsyncIterator[None]]:
    async def accounts(app: web.Application) -> AsyncIterator[None]:
        options = ctx.options
        async with AsyncExitStack() as stack:
            for provider, settings in ctx.settings.items():
                # ONE limiter per account: every client, every route, every request.
                limiter = RateLimiter(options.max_rpm, burst=options.burst)
                sending = registry.get(provider).sending
                assert sending is not None  # only providers that send are configured
                sender = await stack.enter_async_context(
                    open_sender(
                        sending,
                        sending.with_state(ctx.db, settings),
                        options.provider_values,
                        limiter=limiter,
                        policy=options.policy,
                        timeout_seconds=options.timeout_seconds,
                    )
                )
                ctx.gateways[provider] = AccountGateway(
                    ctx.db,
                    sender,
                    concurrency=options.concurrency,
                    max_queue=options.max_queue,
                )
            yield
            ctx.gateways.clear()

    return accounts


async def _drain(app: web.Application) -> None:
    """Graceful shutdown: finish (and archive) the answers in flight before the sessions close.
    Requests still sending their body have asked nothing yet: they are cut at once, so that a
    crowd of slow clients cannot hold the shutdown up."""
    ctx = app[CONTEXT]
    for task in list(ctx.body_reads):
        task.cancel()
    results = await asyncio.gather(
        *(g.close(ctx.options.shutdown_grace) for g in ctx.gateways.values())
    )
    if any(results):
        log.warning("%d answer(s) were still running at shutdown and were cut", sum(results))
    ctx.tallies[:] = [gateway.stats.line(gateway.provider) for gateway in ctx.gateways.values()]


def make_app(
    db: sqlite_utils.Database, options: ServeOptions, settings: dict[str, Any]
) -> web.Application:
    """``settings`` maps each provider to open (a name the registry knows) to its settings.
    Route families and the default provider not given in ``options`` follow from it."""
    options = replace(
        options,
        families=options.families or route_families(settings),
        default_provider=options.default_provider or default_provider(settings),
    )
    ctx = ServeContext(
        db=db,
        options=options,
        settings=settings,
        rates=KeyRates(options.key_rpm, options.key_burst),
    )
    app = web.Application(
        middlewares=[guard_middleware, errors_middleware, body_cap_middleware, auth_middleware],
        client_max_size=options.max_body,
    )
    app[CONTEXT] = ctx
    protect(app)
    app.cleanup_ctx.append(_accounts(ctx))
    app.on_shutdown.append(_drain)
    if options.cors_origin:
        _cors(app, options.cors_origin)
    app.router.add_get("/login", login_get)
    app.router.add_post("/login", login_post)
    app.router.add_post("/logout", logout)
    openai.add_routes(app)
    seed004.add_routes(app)  # before readapi: /conversations/all must win over /{id}
    readapi.add_routes(app)
    seed000.add_routes(app)
    mcproute.add_routes(app)
    viewer.add_routes(app)
    return app


class AccessLog(AbstractAccessLogger):
    """One line per request, without its query string: an API key passed as ``?api_key=``
    or a search term of the viewer (``?q=``) must not land in a log file. The path is logged as
    sent (still percent-encoded: no control character reaches the log)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        query = "?…" if request.rel_url.raw_query_string else ""
        major, minor = request.version
        self.logger.info(
            '%s "%s %s%s HTTP/%d.%d" %d %d %.3fs',
            request.remote,
            request.method,
            request.rel_url.raw_path,
            query,
            major,
            minor,
            response.status,
            response.body_length,
            time,
        )


def shutdown_timeout(options: ServeOptions) -> float:
    """How long a shutdown waits for handlers: the answers' grace, and a little more."""
    return options.shutdown_grace + 5


def serve(
    db: sqlite_utils.Database,
    options: ServeOptions,
    settings: dict[str, Any],
    *,
    print_line: Callable[[str], None] = print,
) -> None:
    """Run until SIGINT/SIGTERM; in-flight answers are finished (or archived) first, then each
    account's tally is printed."""
    if not options.loopback:
        log.warning(
            "serving on %s, not a loopback address: every route needs an API key; "
            "put TLS in front of it",
            options.host,
        )
    app = make_app(db, options, settings)
    web.run_app(
        app,
        host=options.host,
        port=options.port,
        print=print_line,
        shutdown_timeout=shutdown_timeout(options),
        access_log_class=AccessLog,
        **HANDLER_ARGS,
    )
    for line in app[CONTEXT].tallies:
        print_line(line)
