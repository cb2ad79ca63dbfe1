"""Microsoft Copilot REST (copilot.microsoft.com, docs/protocol/copilot.md): settings, the
conversation list, a conversation's history, create and delete.

``CopilotClient`` is a thin adapter over the shared HttpClient (one limiter, one retry policy);
parsing lives in ``parse.py``. The token is a bearer token that lasts about a day: it is sent
only to the configured Copilot host, never shown, and error messages name only method and path.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from archiver.backup.client_source import ListEntry, newest_first
from archiver.config import Secret
from archiver.errors import ChallengeError
from archiver.providers.copilot import parse
from archiver.providers.copilot.options import (
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    IDENTITY_ENV,
    PROVIDER,
    TOKEN,
    USER_AGENT_ENV,
)
from archiver.providers.copilot.parse import Page
from archiver.settings import EnvHeader, EnvUrl, FromEnvironment, OneSignIn, env_sources
from archiver.transport.http import HttpClient
from archiver.transport.request import EDGE_USER_AGENT, browser_headers

AUTH_REFUSED = "the Copilot token was refused: they last about a day, copy a fresh one"
CLOUDFLARE_ADVICE = (
    "Copilot answered a Cloudflare check instead of data: open copilot.microsoft.com in the "
    "browser the token came from, let the check pass, then run again (what was archived is kept)"
)
CHAT_PATH = "c/api/chat"
CHAT_API_VERSION = "2"
# A current desktop browser: Copilot's edge rejects clients that do not look like one.
DEFAULT_USER_AGENT = EDGE_USER_AGENT
MAX_PAGES = 10_000  # a server handing out fresh cursors forever must not loop us forever


@dataclass(frozen=True)
class CopilotSettings(OneSignIn, FromEnvironment):
    token: Secret
    identity_type: str | None = None
    base_url: str = DEFAULT_BASE_URL
    user_agent: str = DEFAULT_USER_AGENT

    FROM_ENV = env_sources(
        identity_type=EnvHeader(IDENTITY_ENV),
        user_agent=EnvHeader(USER_AGENT_ENV, DEFAULT_USER_AGENT),
        token=TOKEN,
        base_url=EnvUrl(BASE_URL_ENV, DEFAULT_BASE_URL),
    )

    def browser_headers(self) -> dict[str, str]:
        """What the web app's own requests carry, minus credentials."""
        return browser_headers(self.base_url, self.user_agent)

    def headers(self) -> dict[str, str]:
        headers = self.browser_headers()
        headers["Authorization"] = f"Bearer {self.token.reveal()}"
        if self.identity_type:
            headers["x-useridentitytype"] = self.identity_type
        return headers

    def url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"

    def chat_socket_url(self, client_session_id: str | None = None) -> str:
        """``wss://.../c/api/chat?api-version=2&clientSessionId=..&accessToken=..``. It carries
        the token: never log it, never put it in a message (``chat_socket_place`` is safe)."""
        parts = urlsplit(self.url(CHAT_PATH))
        scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
        query = urlencode(
            {
                "api-version": CHAT_API_VERSION,
                "clientSessionId": client_session_id or str(uuid.uuid4()),
                "accessToken": self.token.reveal(),
            },
            quote_via=quote,
        )
        return urlunsplit((scheme, parts.netloc, parts.path, query, ""))


def chat_socket_place() -> str:
    """How messages name the chat socket: the path only, never the query with the token."""
    return f"websocket /{CHAT_PATH}"


class CopilotClient:
    """Copilot REST over the shared HttpClient."""

    provider = PROVIDER

    def __init__(self, http: HttpClient, settings: CopilotSettings):
        self.http = http
        self.settings = settings
        # List entries of the last list_all() that were no chat (no usable id), kept for the
        # backup to count: a full walk must not take them for gone conversations.
        self.unreadable_entries: list[Any] = []

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return await self.http.request_json(
                method, self.settings.url(path), headers=self.settings.headers(), **kwargs
            )
        except ChallengeError as exc:
            raise ChallengeError(
                f"{CLOUDFLARE_ADVICE} ({exc.url or path})", status=exc.status, url=exc.url
            ) from None

    async def list_page(
        self, cursor: str | None = None
    ) -> tuple[list[ListEntry], str | None, list[Any]]:
        payload = await self._json("GET", parse.LIST_PATH, params=parse.list_params(cursor))
        return parse.parse_chat_page(payload)

    async def list_all(self) -> list[ListEntry]:
        """Every listed conversation, newest ``updatedAt`` first. Paging follows ``next`` and
        stops at a cursor already used (a server repeating itself) or the last page."""
        chats: list[ListEntry] = []
        used: set[str] = set()
        cursor: str | None = None
        self.unreadable_entries = []
        for _ in range(MAX_PAGES):
            page, cursor, unreadable = await self.list_page(cursor)
            chats.extend(page)
            self.unreadable_entries.extend(unreadable)
            if not cursor or cursor in used:
                break
            used.add(cursor)
        return newest_first(chats)

    async def history_page(self, conversation_id: str, cursor: str | None = None) -> Page:
        payload = await self._json(
            "GET",
            parse.history_path(quote(conversation_id, safe="")),
            params=parse.history_params(cursor),
        )
        return parse.parse_history_page(payload, conversation_id)

    async def history(self, conversation_id: str) -> dict[str, Any]:
        """The whole history, oldest message first: ``{"messages": [...], "pages": n}``."""
        pages: list[list[dict[str, Any]]] = []
        used: set[str] = set()
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await self.history_page(conversation_id, cursor)
            pages.append(page.results)
            cursor = page.next_cursor
            if not cursor or cursor in used:
                break
            used.add(cursor)
        return {"messages": parse.oldest_first(pages), "pages": len(pages)}

    async def create_conversation(self) -> str:
        payload = await self._json("POST", parse.LIST_PATH, json={})
        return parse.parse_created(payload)

    async def delete_conversation(self, conversation_id: str) -> None:
        """The answer may be empty (204) or JSON: only its status matters."""

        async def drain(chunks: AsyncIterator[bytes]) -> None:
            async for _ in chunks:
                pass

        path = parse.conversation_path(quote(conversation_id, safe=""))
        try:
            await self.http.request_stream(
                "DELETE", self.settings.url(path), drain, headers=self.settings.headers()
            )
        except ChallengeError as exc:
            raise ChallengeError(f"{CLOUDFLARE_ADVICE} ({exc.url or path})") from None


# An HttpClient(session, limiter, policy) whose 401 message speaks of the Copilot token and
# its one-day life.
new_copilot_http = partial(HttpClient, auth_message=AUTH_REFUSED)


__all__ = [
    "AUTH_REFUSED",
    "DEFAULT_BASE_URL",
    "PROVIDER",
    "CopilotClient",
    "CopilotSettings",
    "chat_socket_place",
    "new_copilot_http",
]
