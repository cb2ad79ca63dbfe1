"""Signing in with the browser's session cookie, and staying signed in for a whole run.

``__Secure-next-auth.session-token`` (weeks-long) buys an access token (a JWT, days-long) from
``GET /api/auth/session`` on the host root. The token is refreshed a few minutes before its
``exp`` (a token that lives only seconds: once a fifth of its life is left, so each token is
replaced once, not before every request) and once when a 401 says it expired: one refresh for
every worker at once (an
``asyncio.Lock`` plus "is the token I saw still the current one?"). A renewed cookie in the
answer's ``Set-Cookie`` is written back to the session file, atomically and 0600.

Parsing (cookie header, JWT payload, session answer) is sans-I/O; ``SessionAuth`` does the I/O.
Neither the cookie nor the token ever appears in a message or a log line.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any

from archiver.config import Secret, read_secret_file
from archiver.errors import AuthError, ConfigError, UpstreamError
from archiver.privatefiles import write_private_text
from archiver.providers.chatgpt.options import SESSION_ENV

log = logging.getLogger("archiver.chatgpt.session")

SESSION_COOKIE = "__Secure-next-auth.session-token"
SESSION_PATH = "api/auth/session"
REFRESH_MARGIN_SECONDS = 300.0  # refresh this long before exp
# ... or, for a token that lives less than five times that, with this share of its life left.
REFRESH_MARGIN_SHARE = 0.2
SIGNED_OUT = "the ChatGPT session cookie was refused (signed out or expired): copy a fresh one"


def parse_session_cookie(value: str) -> str:
    """The session token from what a user pasted: the bare value, or a whole Cookie header
    (chunks ``.0``, ``.1``, ... joined in order; every other cookie ignored)."""
    text = value.strip()
    if SESSION_COOKIE not in text:
        if "=" in text and ";" in text:
            raise ConfigError(
                f"the pasted Cookie header has no {SESSION_COOKIE} cookie: copy it from a "
                "signed-in browser"
            )
        return text
    pairs: dict[str, str] = {}
    for piece in text.removeprefix("Cookie:").split(";"):
        name, sep, cookie_value = piece.strip().partition("=")
        if sep:
            pairs[name.strip()] = cookie_value.strip().strip('"')
    joined = session_token_of(pairs)
    if joined is None:
        raise ConfigError(f"the pasted Cookie header has no value for {SESSION_COOKIE}")
    return joined


def session_token_of(cookies: dict[str, str]) -> str | None:
    """The session token among named cookies: whole, or its chunks ``.0``, ``.1``, ... joined
    in order (NextAuth splits a long cookie that way)."""
    if cookies.get(SESSION_COOKIE):
        return cookies[SESSION_COOKIE]
    chunks = []
    n = 0
    while cookies.get(f"{SESSION_COOKIE}.{n}"):
        chunks.append(cookies[f"{SESSION_COOKIE}.{n}"])
        n += 1
    return "".join(chunks) or None


def jwt_expiry(token: str) -> float | None:
    """``exp`` (epoch seconds) from a JWT's payload; None when it is not a readable JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, UnicodeDecodeError):
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def access_token_from(payload: Any) -> str:
    """The access token of a ``/api/auth/session`` answer; ``{}`` means signed out."""
    if not isinstance(payload, dict):
        raise UpstreamError("the session endpoint answered an unexpected shape")
    token = payload.get("accessToken")
    if not isinstance(token, str) or not token:
        raise AuthError(SIGNED_OUT, status=200)
    if any(ord(c) < 33 or ord(c) == 127 for c in token):
        raise UpstreamError("the session endpoint answered an access token that is not one line")
    return token


def renewed_cookie(set_cookie_headers: list[str]) -> str | None:
    """A renewed session token from ``Set-Cookie`` headers (whole or chunked), if any."""
    found: dict[str, str] = {}
    for header in set_cookie_headers:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            continue
        for name, morsel in jar.items():
            if name == SESSION_COOKIE or name.startswith(SESSION_COOKIE + "."):
                found[name] = morsel.value
    return session_token_of(found)


# (url, headers) -> (payload, Set-Cookie headers): the I/O the refresh needs, injected.
SessionFetch = Callable[[str, Mapping[str, str]], Awaitable[tuple[Any, list[str]]]]


class SessionAuth:
    """One account's sign-in, shared by every worker of a run."""

    def __init__(
        self,
        cookie: Secret,
        *,
        session_file: Path | None = None,
        clock: Callable[[], float] = time.time,
        margin_seconds: float = REFRESH_MARGIN_SECONDS,
    ) -> None:
        self._cookie = Secret(parse_session_cookie(cookie.reveal()))
        self.session_file = session_file
        self._clock = clock
        self.margin_seconds = margin_seconds
        self._token: Secret | None = None
        self.expires_at: float | None = None
        self.obtained_at = 0.0  # our clock when the token came
        self._lock = asyncio.Lock()
        self.refreshes = 0

    @classmethod
    def from_sources(
        cls,
        *,
        env_var: str = SESSION_ENV,
        session_file: str | os.PathLike[str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> SessionAuth | None:
        """From a 0600 file when given, else the env var; None when neither is set."""
        if session_file is not None:
            return cls(read_secret_file(session_file), session_file=Path(session_file))
        value = (environ if environ is not None else os.environ).get(env_var, "").strip()
        if not value:
            return None
        if "\n" in value or "\r" in value:
            raise ConfigError(f"{env_var} holds more than one line")
        return cls(Secret(value))

    @property
    def token(self) -> Secret | None:
        return self._token

    def cookie_header(self) -> str:
        return f"{SESSION_COOKIE}={self._cookie.reveal()}"

    def needs_refresh(self) -> bool:
        if self._token is None:
            return True
        if self.expires_at is None:
            return False  # not a JWT we can read: refresh only when a 401 says so
        lifetime = self.expires_at - self.obtained_at
        if lifetime <= 0:
            return False  # expired when it came (clocks disagree): only a 401 is believed
        margin = min(self.margin_seconds, lifetime * REFRESH_MARGIN_SHARE)
        return self._clock() >= self.expires_at - margin

    async def ensure(self, fetch: SessionFetch, url: str, headers: Mapping[str, str]) -> None:
        if self.needs_refresh():
            await self.refresh(fetch, url, headers, stale=self._token)

    async def refresh(
        self,
        fetch: SessionFetch,
        url: str,
        headers: Mapping[str, str],
        *,
        stale: Secret | None,
    ) -> None:
        """Get a new access token unless another worker already replaced ``stale``."""
        async with self._lock:
            if self._token is not None and self._token != stale and not self.needs_refresh():
                return  # someone refreshed while we waited for the lock
            request_headers = {**headers, "Cookie": self.cookie_header()}
            payload, set_cookies = await fetch(url, request_headers)
            token = access_token_from(payload)
            self._token = Secret(token)
            self.expires_at = jwt_expiry(token)
            self.obtained_at = self._clock()
            self.refreshes += 1
            log.info("signed in with the session cookie (refresh %d)", self.refreshes)
            renewed = renewed_cookie(set_cookies)
            if renewed and renewed != self._cookie.reveal():
                self._cookie = Secret(renewed)
                self._write_back()

    def _write_back(self) -> None:
        if self.session_file is None:
            log.info("the session cookie was renewed; set the new one yourself (it came by env)")
            return
        try:
            # Through a symlink to its target: replacing the link with a file of its own
            # would leave the real file (a dotfile manager's) with the old cookie.
            write_private_text(self.session_file.resolve(), self._cookie.reveal() + "\n")
        except OSError as exc:
            log.warning("could not save the renewed session cookie: %s", exc.strerror)
