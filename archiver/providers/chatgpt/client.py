"""ChatGPT ``backend-api``: listing and fetching conversations.

Request building and response parsing are plain functions; ``ChatGPTClient`` is a thin adapter
over the shared HttpClient."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from archiver.backup.listing import ListItem
from archiver.config import Secret, env_base_url, load_secret
from archiver.errors import NotFoundError, UpstreamError, WrongEndpointError
from archiver.timeutil import to_iso
from archiver.transport.http import HttpClient

DEFAULT_BASE_URL = "https://chatgpt.com/backend-api"
DEFAULT_MAX_RPM = 30.0  # requests per minute: the service throttles hard
LIST_LIMIT = 100  # the server refuses more with 422


@dataclass(frozen=True)
class ChatGPTSettings:
    base_url: str
    token: Secret
    account_id: str | None = None

    @classmethod
    def from_env(cls, token_file: str | None = None) -> ChatGPTSettings:
        return cls(
            base_url=env_base_url("CHATGPT_BASE_URL", DEFAULT_BASE_URL),
            token=load_secret("CHATGPT_ACCESS_TOKEN", token_file, what="ChatGPT access token"),
            account_id=os.environ.get("CHATGPT_ACCOUNT_ID") or None,
        )

    def headers(self) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.token.reveal()}",
            "Accept": "application/json",
        }
        if self.account_id:
            headers["Chatgpt-Account-Id"] = self.account_id
        return headers

    @property
    def account(self) -> str:
        return self.account_id or ""

    def url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"

    def root_url(self, path: str) -> str:
        """Endpoints such as ``public-api/conversation_limit`` hang off the host root."""
        return f"{host_root(self.base_url)}/{path.lstrip('/')}"


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
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
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
