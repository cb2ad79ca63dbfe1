"""The HttpClient every ChatGPT request goes through: signed in, browser-like, host-bound.

- Session-cookie sign-in: the access token is fetched before the first request, refreshed a
  few minutes before its ``exp``, and once on a 401 ``token_expired`` (one refresh for every
  worker at once: see session.SessionAuth); the failed request is then sent again, once.
- The bearer token goes only to the configured host: on any other host (a signed download URL)
  ``Authorization`` is removed, whatever the caller passed.
- A Cloudflare page stops the run (exit 3) with what to try.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any, TypeVar, Unpack

from archiver.errors import AuthError, ChallengeError
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.providers.chatgpt.session import SESSION_PATH
from archiver.transport.base import Response, Transport
from archiver.transport.connect import open_transport
from archiver.transport.http import Check, HttpClient, Reader, RetryPolicy, judge, streamed
from archiver.transport.pace import ClientPace, paced_http
from archiver.transport.ratelimit import RateLimiter
from archiver.transport.request import Request, RequestOptions
from archiver.transport.responses import decode_json

T = TypeVar("T")
SESSION_REFUSED = "the ChatGPT session cookie was refused"

CHALLENGE_HINT = (
    "try a fresh session cookie copied from the same browser, that browser's User-Agent "
    "(--user-agent or CHATGPT_USER_AGENT), or the impersonating transport "
    "(--transport curl_cffi, pip install 'archiver[impersonate]')"
)


class ChatGPTHttp(HttpClient):
    def __init__(
        self,
        transport: Transport,
        limiter: RateLimiter,
        policy: RetryPolicy | None = None,
        *,
        settings: ChatGPTSettings,
    ) -> None:
        super().__init__(transport, limiter, policy)
        self.settings = settings

    # -- every request HttpClient makes goes through send: sign it there ----------------------

    async def send(self, request: Request, read: Reader[T]) -> T:
        parent = super().send
        return await self._signed(lambda signed: parent(signed, read), request)

    async def stream_once(
        self,
        method: str,
        url: str,
        consume: Callable[[AsyncIterator[bytes]], Awaitable[T]],
        *,
        check: Check[None],
        **options: Unpack[RequestOptions],
    ) -> T:
        """One signed streamed request, no retries and no limiter: the caller (the sender)
        owns both, because a retry of a send needs new sentinel tokens and may have to look
        the answer up first. ``check(status, headers, body, method=, url=)`` raises for a
        non-2xx answer."""
        request = Request(method, url, **options)
        read = streamed(request, consume, check)
        return await self._signed(lambda signed: self.exchange(signed, read), request)

    # -- signing ---------------------------------------------------------------------------

    async def sign_in(self) -> None:
        """Make sure a session-cookie sign-in holds a token that is not about to expire."""
        auth = self.settings.session
        if auth is None:
            return
        try:
            await auth.ensure(self._fetch_session, self.session_url, self._browser_headers())
        except ChallengeError as exc:
            raise _with_hint(exc) from None

    @property
    def session_url(self) -> str:
        return self.settings.root_url(SESSION_PATH)

    def _browser_headers(self) -> dict[str, str]:
        headers = self.settings.headers()
        headers.pop("Authorization", None)
        return headers

    def _bound(self, request: Request) -> Request:
        """The caller's headers with the current token on our host and none elsewhere."""
        headers = request.headers
        signed = dict(headers if headers is not None else self.settings.headers())
        signed.pop("Authorization", None)
        token = self.settings.current_token()
        if self.settings.is_own_host(request.url):
            if token is not None:
                signed["Authorization"] = f"Bearer {token.reveal()}"
        else:
            signed.pop("Chatgpt-Account-Id", None)
        return request.with_headers(signed)

    async def _signed(self, call: Callable[[Request], Awaitable[T]], request: Request) -> T:
        auth = self.settings.session
        own_host = self.settings.is_own_host(request.url)
        try:
            if auth is not None and own_host:
                await self.sign_in()
            used = self.settings.current_token()
            try:
                return await call(self._bound(request))
            except AuthError as exc:
                if auth is None or exc.status != 401 or not own_host:
                    raise
                # Expired (or revoked) mid-run: one refresh for all, then this request again.
                await auth.refresh(
                    self._fetch_session, self.session_url, self._browser_headers(), stale=used
                )
                return await call(self._bound(request))
        except ChallengeError as exc:
            raise _with_hint(exc) from None

    async def _fetch_session(self, url: str, headers: Mapping[str, str]) -> tuple[Any, list[str]]:
        """GET /api/auth/session with the cookie, under the limiter and retry policy; returns
        the JSON and every Set-Cookie header (a renewed cookie may come in chunks). Not
        signed: the cookie is this request's credential."""
        request = Request("GET", url, headers=headers)
        check = partial(decode_json, auth_message=SESSION_REFUSED)

        async def read(response: Response) -> tuple[Any, list[str]]:
            payload = await judge(request, response, check)
            return payload, response.headers.getall("Set-Cookie")

        return await super().send(request, read)


def _with_hint(exc: ChallengeError) -> ChallengeError:
    if CHALLENGE_HINT in str(exc) or type(exc) is not ChallengeError:
        return exc  # a refusal of its own kind (Unusual activity, a proof) says what to do
    return ChallengeError(
        f"{exc} from Cloudflare: {CHALLENGE_HINT}", status=exc.status, url=exc.url
    )


def open_chatgpt_session(
    settings: ChatGPTSettings, *, timeout_seconds: float = 120.0
) -> AbstractAsyncContextManager[Transport]:
    """The transport ``settings.transport`` names, as an async context manager."""
    return open_transport(settings.transport, timeout_seconds=timeout_seconds)


def open_chatgpt_http(
    settings: ChatGPTSettings, pace: ClientPace, *, limiter: RateLimiter | None = None
) -> AbstractAsyncContextManager[ChatGPTHttp]:
    """A signed-in client for the account on the transport it names (``settings.transport``),
    at ``pace`` (under ``limiter`` instead of the pace's own when the caller owns one)."""
    return paced_http(
        pace, partial(ChatGPTHttp, settings=settings), transport=settings.transport, limiter=limiter
    )
