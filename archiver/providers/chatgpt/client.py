"""ChatGPT ``backend-api``: listing and fetching conversations.

Request building and response parsing are plain functions; ``ChatGPTClient`` is a thin adapter
over the shared HttpClient."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from archiver.backup.listing import ListItem, unreadable_entry
from archiver.config import Secret, env_base_url
from archiver.errors import ConfigError, NotFoundError, UpstreamError, WrongEndpointError
from archiver.providers.chatgpt.browser import BrowserProfile
from archiver.providers.chatgpt.options import (
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RPM,
    TOKEN,
)
from archiver.providers.chatgpt.session import SessionAuth
from archiver.timeutil import to_iso
from archiver.transport.connect import TRANSPORTS
from archiver.transport.http import HttpClient
from archiver.transport.pace import ClientPace

DEFAULT_PACE = ClientPace(DEFAULT_MAX_RPM)
LIST_LIMIT = 100  # the server refuses more with 422


@dataclass(frozen=True)
class ChatGPTSettings:
    """Where and as whom to call ChatGPT. Sign-in is either an access token (``token``) or the
    browser's session cookie (``session``, which fetches and refreshes the token itself)."""

    base_url: str
    token: Secret | None = None
    account_id: str | None = None
    session: SessionAuth | None = field(default=None, compare=False)
    browser: BrowserProfile = field(default_factory=BrowserProfile)
    device_id: str | None = None  # oai-device-id: one per account, kept in account_state
    transport: str = "aiohttp"  # or "curl_cffi" (pip install 'archiver[impersonate]')

    @classmethod
    def from_env(
        cls,
        token_file: str | None = None,
        *,
        session_file: str | None = None,
        user_agent: str | None = None,
        transport: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ChatGPTSettings:
        """The session cookie (``--session-file`` or CHATGPT_SESSION_TOKEN) when given, else the
        access token (``--token-file`` or CHATGPT_ACCESS_TOKEN)."""
        env = environ if environ is not None else os.environ
        session = None
        token = None
        if token_file is None:
            session = SessionAuth.from_sources(session_file=session_file, environ=env)
        if session is None:
            if (
                session_file is None
                and token_file is None
                and not env.get(TOKEN.env_var, "").strip()
            ):
                raise ConfigError(
                    "no ChatGPT sign-in: set CHATGPT_ACCESS_TOKEN or CHATGPT_SESSION_TOKEN (the "
                    "browser's session cookie), or pass a 0600 --token-file/--session-file"
                )
            token = TOKEN.load(token_file, env)
        return cls(
            base_url=env_base_url(BASE_URL_ENV, DEFAULT_BASE_URL, env),
            token=token,
            account_id=env.get("CHATGPT_ACCOUNT_ID") or None,
            session=session,
            browser=BrowserProfile.from_env(user_agent=user_agent, environ=env),
            transport=choose_transport(transport, env),
        )

    def current_token(self) -> Secret | None:
        return self.session.token if self.session is not None else self.token

    def headers(self) -> dict[str, str]:
        """What every request to the configured host carries: the bearer token (once signed
        in) and the browser's headers (User-Agent, Origin/Referer, languages, device id)."""
        headers = self.browser.headers(self.origin, device_id=self.device_id)
        headers["Accept"] = "application/json"
        token = self.current_token()
        if token is not None:
            headers["Authorization"] = f"Bearer {token.reveal()}"
        if self.account_id:
            headers["Chatgpt-Account-Id"] = self.account_id
        return headers

    def headers_for(self, url: str) -> dict[str, str]:
        """``headers()`` for a URL on the configured host; elsewhere (a signed download URL on
        another host) the browser headers only: the bearer token never leaves its host."""
        headers = self.headers()
        if not self.is_own_host(url):
            headers.pop("Authorization", None)
            headers.pop("Chatgpt-Account-Id", None)
            headers.pop("oai-device-id", None)
        return headers

    def is_own_host(self, url: str) -> bool:
        mine, theirs = urlsplit(self.base_url), urlsplit(url)
        return (mine.scheme, mine.hostname, mine.port) == (
            theirs.scheme,
            theirs.hostname,
            theirs.port,
        )

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def account(self) -> str:
        return self.account_id or ""

    def url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"

    def root_url(self, path: str) -> str:
        """Endpoints such as ``public-api/conversation_limit`` hang off the host root."""
        return f"{host_root(self.base_url)}/{path.lstrip('/')}"


def choose_transport(option: str | None, environ: Mapping[str, str] | None = None) -> str:
    """``--transport`` or CHATGPT_TRANSPORT: aiohttp (default) or curl_cffi."""
    value = option or (environ if environ is not None else os.environ).get("CHATGPT_TRANSPORT")
    value = (value or "aiohttp").strip().lower().replace("-", "_")
    if value not in TRANSPORTS:
        raise ConfigError(f"unknown transport {value!r}: choose one of {', '.join(TRANSPORTS)}")
    return value


def host_root(base_url: str) -> str:
    """``https://chatgpt.com/backend-api`` → ``https://chatgpt.com`` (a proxy base stays as is)."""
    return base_url.rstrip("/").removesuffix("/backend-api")


def list_params(offset: int, *, archived: bool, limit: int = LIST_LIMIT) -> dict[str, str]:
    params = {
        "offset": str(offset),
        "limit": str(min(limit, LIST_LIMIT)),
        "order": "updated",
    }
    if archived:
        params["is_archived"] = "true"
    return params


def parse_list_page(payload: Any) -> list[ListItem]:
    """Items of one ``conversations`` page. ``total`` is not trusted (it can disagree with the
    items actually returned), so paging stops on a short page instead."""
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        raise UpstreamError("the conversation list answered an unexpected shape")
    items = []
    for raw in payload["items"]:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
            items.append(unreadable_entry(raw))
            continue
        items.append(
            ListItem(
                id=raw["id"],
                update_time=to_iso(raw.get("update_time")) or to_iso(raw.get("create_time")),
                title=raw.get("title") if isinstance(raw.get("title"), str) else None,
                raw=raw,
            )
        )
    return items


class ChatGPTClient:
    provider = "chatgpt"

    def __init__(self, http: HttpClient, settings: ChatGPTSettings):
        self.http = http
        self.settings = settings

    async def get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        return await self.http.request_json(
            "GET", self.settings.url(path), headers=self.settings.headers(), params=params
        )

    async def list_pages(self, *, archived: bool) -> AsyncIterator[list[ListItem]]:
        """Pages of the ``order=updated`` list, newest first, until a short page."""
        offset = 0
        while True:
            try:
                payload = await self.get_json(
                    "conversations", list_params(offset, archived=archived)
                )
            except NotFoundError as exc:
                raise WrongEndpointError(
                    f"{exc}: wrong base URL? (CHATGPT_BASE_URL should end in /backend-api)",
                    status=404,
                ) from None
            raw_count = len(payload.get("items") or []) if isinstance(payload, dict) else 0
            yield parse_list_page(payload)
            if raw_count < LIST_LIMIT:
                return
            offset += raw_count

    async def get_conversation(self, conversation_id: str) -> Any:
        return await self.get_json(f"conversation/{conversation_id}")
