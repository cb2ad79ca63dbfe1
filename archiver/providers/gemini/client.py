"""Gemini's web app over the shared HttpClient: the app page (its session tokens), the chat
list and a chat's turns through batchexecute (docs/protocol/gemini.md).

The cookie is sent only to the configured Gemini host: the shared HttpClient follows redirects
and drops every credential on a hop to another origin. An answer that ends on another host is
Google's consent or sign-in page (exit 3, with what to do). Messages name method and path only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlencode, urlsplit

from archiver.config import Secret, pasted_cookie_header
from archiver.errors import (
    EXIT_PARTIAL,
    AuthError,
    BadRequestError,
    ConfigError,
    TransientError,
    UpstreamError,
)
from archiver.providers.gemini import batchexecute as bx
from archiver.providers.gemini import parse
from archiver.providers.gemini.options import (
    AUTH_REFUSED,
    BASE_URL_ENV,
    COOKIE,
    COOKIE_ENV,
    DEFAULT_BASE_URL,
    LIST_PAGE_SIZE,
    LIST_RPC,
    READ_PAGE_SIZE,
    READ_RPC,
)
from archiver.settings import EnvUrl, FromEnvironment, OneSignIn, env_sources
from archiver.transport.base import Response
from archiver.transport.http import HttpClient, judge
from archiver.transport.request import CHROME_USER_AGENT, Request
from archiver.transport.responses import looks_like_html, raise_for_status, where

log = logging.getLogger("archiver.gemini")

APP_PATH = "/app"
BATCH_PATH = "/_/BardChatUi/data/batchexecute"
DEFAULT_USER_AGENT = CHROME_USER_AGENT
MAX_PAGES = 10_000  # a server handing out fresh cursors forever must not loop us forever
CONSENT_ADVICE = (
    "Google asked for cookie consent instead of serving Gemini: open gemini.google.com in the "
    "browser the cookie came from, answer the consent page, then copy the whole Cookie header "
    f"again into {COOKIE_ENV} (what was archived is kept)"
)
SIGN_IN_ADVICE = (
    "Google sent the sign-in page instead of Gemini: sign in to gemini.google.com in a browser, "
    f"then copy a fresh Cookie header into {COOKIE_ENV} (what was archived is kept)"
)


class GeminiRedirected(UpstreamError):
    """A consent or sign-in page instead of the app: a person has to act in a browser."""

    exit_code = EXIT_PARTIAL


class StaleToken(BadRequestError):
    """HTTP 400 naming ``xsrf``: the page's ``at`` token went stale (read the page again)."""


def cookie_header_value(raw: str) -> str:
    """``GEMINI_COOKIE`` is a whole Cookie header (a ``Cookie:`` prefix allowed); it must hold
    ``__Secure-1PSID``. Never shown."""
    value = pasted_cookie_header(raw)
    names = {part.split("=", 1)[0].strip() for part in value.split(";") if "=" in part}
    if "__Secure-1PSID" not in names:
        raise ConfigError(
            f"{COOKIE_ENV} holds no __Secure-1PSID cookie: copy the whole Cookie header of a "
            "request to gemini.google.com (with __Secure-1PSID and __Secure-1PSIDTS)"
        )
    if "__Secure-1PSIDTS" not in names:
        log.warning("%s holds no __Secure-1PSIDTS cookie: Google may refuse it", COOKIE_ENV)
    return value


@dataclass(frozen=True)
class GeminiSettings(OneSignIn, FromEnvironment):
    cookie: Secret
    base_url: str = DEFAULT_BASE_URL
    user_agent: str = DEFAULT_USER_AGENT

    FROM_ENV = env_sources(cookie=COOKIE, base_url=EnvUrl(BASE_URL_ENV, DEFAULT_BASE_URL))

    def __post_init__(self) -> None:
        cookie_header_value(self.cookie.reveal())  # a malformed cookie is a config error now

    @property
    def origin(self) -> str:
        return self.base_url.rstrip("/")

    def url(self, path: str) -> str:
        return self.origin + path

    def headers(self) -> dict[str, str]:
        return {
            "User-Agent": self.user_agent,
            "Accept-Language": "en-US,en;q=0.9",
            "Origin": self.origin,
            "Referer": self.origin + "/",
            "X-Same-Domain": "1",
            "Cookie": pasted_cookie_header(
                self.cookie.reveal()
            ),  # checked once, when the settings were made
        }


def moved_elsewhere(final_url: str, base_url: str) -> GeminiRedirected | None:
    """The error an answer that ended on ``final_url`` means: another host (the redirects
    followed there without the cookie) is Google's consent or sign-in page."""
    final, base = urlsplit(final_url), urlsplit(base_url)
    lowered = final_url.lower()
    if (final.hostname, final.port) == (base.hostname, base.port) and "servicelogin" not in lowered:
        return None
    if "consent" in (final.hostname or "") or "/consent" in lowered:
        return GeminiRedirected(CONSENT_ADVICE, status=302)
    return GeminiRedirected(SIGN_IN_ADVICE, status=302)


def judge_page(
    status: int, headers: Mapping[str, str], body: bytes, *, method: str, url: str
) -> parse.PageTokens:
    """The app page → its tokens; a page without ``SNlM0e`` means the cookie was not taken."""
    raise_for_status(status, headers, body, method=method, url=url, auth_message=AUTH_REFUSED)
    tokens = parse.page_tokens(body.decode("utf-8", "replace"))
    if tokens is None:
        raise AuthError(f"{AUTH_REFUSED} (GET {APP_PATH} came back signed out)", status=status)
    return tokens


def judge_batch(
    status: int, headers: Mapping[str, str], body: bytes, *, method: str, url: str
) -> bx.Reply:
    place = where(method, url)
    if status == 400:
        try:
            refused = bx.parse_reply(body).request_errors
        except bx.FramingError:
            refused = []
        if refused and any(bx.mentions(envelope, "xsrf") for envelope in refused):
            raise StaleToken(f"{place} refused the page token (xsrf)", status=400, url=place)
    raise_for_status(status, headers, body, method=method, url=url, auth_message=AUTH_REFUSED)
    try:
        return bx.parse_reply(body)
    except bx.FramingError as exc:
        if looks_like_html(headers, body):
            raise GeminiRedirected(SIGN_IN_ADVICE, status=status, url=place) from None
        raise TransientError(f"{place} answered malformed batchexecute ({exc})") from None


def judge_rpc(
    status: int, headers: Mapping[str, str], body: bytes, *, method: str, url: str, rpcid: str
) -> Any:
    """One RPC's checked result. Judged inside the exchange, so that a throttle the envelope
    reports (1096, an empty result) is retried under the shared limiter like a 429."""
    reply = judge_batch(status, headers, body, method=method, url=url)
    return parse.check_result(reply.result_for(rpcid), rpcid)


@dataclass
class ReadChat:
    """A chat's turns, oldest first, and what else its read pages said."""

    turns: list[list[Any]]
    pages: int
    tails: list[Any] = field(default_factory=list)  # each page minus its turns


class GeminiClient:
    """The app page and batchexecute over the shared HttpClient."""

    def __init__(self, http: HttpClient, settings: GeminiSettings):
        self.http = http
        self.settings = settings
        self.tokens: parse.PageTokens | None = None
        self._page_lock = asyncio.Lock()
        self._reqid = 10_000
        self.unreadable_entries: list[Any] = []

    async def _send(self, method: str, url: str, check: Any, data: bytes | None = None) -> Any:
        form = "application/x-www-form-urlencoded;charset=utf-8"  # batchexecute's body
        request = Request(
            method, url, headers=self.settings.headers(), data=data, content_type=form
        )

        async def read(response: Response) -> Any:
            moved = moved_elsewhere(str(response.url), self.settings.base_url)
            if moved is not None:
                raise moved
            return await judge(request, response, check)

        return await self.http.send(request, read)

    async def session(self, stale: parse.PageTokens | None = None) -> parse.PageTokens:
        """The app page's tokens: read once per run, and again when ``stale`` (the ones a
        request was refused with) are still the current ones (several workers meeting the
        same stale token read the page once)."""
        async with self._page_lock:
            if self.tokens is None or (stale is not None and self.tokens is stale):
                self.tokens = await self._send("GET", self.settings.url(APP_PATH), judge_page)
            return self.tokens

    async def call(self, call: bx.Call) -> Any:
        """One RPC's result; the page is read again once when its token went stale."""
        tokens = await self.session()
        for attempt in (1, 2):
            self._reqid += 100_000
            params = {
                "rpcids": call.rpcid,
                "source-path": APP_PATH,
                "bl": tokens.bl,
                "f.sid": tokens.fsid,
                "hl": tokens.hl or "en",
                "_reqid": str(self._reqid),
                "rt": "c",
            }
            url = f"{self.settings.url(BATCH_PATH)}?{urlencode(params)}"
            body = bx.encode_request([call], tokens.at)
            try:
                return await self._send("POST", url, partial(judge_rpc, rpcid=call.rpcid), body)
            except StaleToken:
                if attempt == 2:
                    raise
                tokens = await self.session(stale=tokens)
        raise AssertionError("unreachable")  # pragma: no cover

    async def list_pages(self, *, pinned: bool) -> AsyncIterator[list[parse.ChatRow]]:
        """One list (pinned chats, or the others), page by page, newest first. A cursor that
        repeats ends the walk."""
        used: set[str] = set()
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            result = await self.call(
                bx.Call(LIST_RPC, parse.list_payload(LIST_PAGE_SIZE, cursor, pinned=pinned))
            )
            chats, cursor, unreadable = parse.parse_list_result(result)
            self.unreadable_entries.extend(unreadable)
            yield chats
            if not cursor or cursor in used:
                return
            used.add(cursor)

    async def read_chat(self, conversation_id: str) -> ReadChat:
        """Every turn, following the continuation token until it is null; oldest first. A
        turn repeated across pages (they shift as the chat grows) is kept once."""
        pages: list[list[list[Any]]] = []
        tails: list[Any] = []
        used: set[str] = set()
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            result = await self.call(
                bx.Call(READ_RPC, parse.read_payload(conversation_id, READ_PAGE_SIZE, cursor))
            )
            turns, cursor = parse.parse_read_result(result)
            pages.append(turns)
            tails.append([None, *result[1:]] if isinstance(result, list) else result)
            if not cursor or cursor in used:
                break
            used.add(cursor)
        seen: set[str] = set()
        ordered: list[list[Any]] = []
        for page in pages:
            for turn in page:
                key = parse.turn_id(turn)
                if key is not None:
                    if key in seen:
                        continue
                    seen.add(key)
                ordered.append(turn)
        ordered.reverse()
        return ReadChat(ordered, len(pages), tails)


# An HttpClient(session, limiter, policy) whose 401 speaks of the Gemini cookie.
new_gemini_http = partial(HttpClient, auth_message=AUTH_REFUSED)


__all__ = [
    "APP_PATH",
    "BATCH_PATH",
    "GeminiClient",
    "GeminiRedirected",
    "GeminiSettings",
    "ReadChat",
    "StaleToken",
    "cookie_header_value",
    "new_gemini_http",
]
