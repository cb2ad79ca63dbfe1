"""The account endpoints over the shared HttpClient: one small adapter, no parsing of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from archiver.errors import UpstreamError
from archiver.providers.chatgpt.account_parse import (
    EXPORT_PATH,
    SHARED_LIMIT,
    SHARED_PATH,
    AccountEndpoint,
    GenTitleAnswer,
    SharedLink,
    gen_title_body,
    parse_gen_title,
    parse_shared_page,
    parse_success,
    shared_params,
    title_patch_body,
)
from archiver.providers.chatgpt.client import DEFAULT_PACE, ChatGPTClient, ChatGPTSettings
from archiver.providers.chatgpt.signed import ChatGPTHttp, open_chatgpt_http
from archiver.transport.http import HttpClient, RetryPolicy
from archiver.transport.pace import ClientPace


@dataclass(frozen=True)
class JsonResponse:
    """A 2xx JSON answer with its headers (lower-cased names; ``date`` serves clock checks)."""

    data: Any
    headers: Mapping[str, str]


class AccountClient:
    def __init__(self, client: ChatGPTClient):
        self.client = client
        self.http: HttpClient = client.http
        self.settings: ChatGPTSettings = client.settings

    def endpoint_url(self, endpoint: AccountEndpoint) -> str:
        if endpoint.off_root:
            return self.settings.root_url(endpoint.path)
        return self.settings.url(endpoint.path)

    async def get(self, endpoint: AccountEndpoint) -> JsonResponse:
        data, headers = await self.http.request_json_with_headers(
            "GET",
            self.endpoint_url(endpoint),
            headers=self.settings.headers(),
            params=dict(endpoint.params) or None,
        )
        return JsonResponse(data, headers)

    async def shared_pages(self, limit: int = SHARED_LIMIT) -> AsyncIterator[list[SharedLink]]:
        """Pages of ``shared_conversations?order=created`` until a short or empty page."""
        offset = 0
        seen: set[str] = set()
        while True:
            payload = await self._call("GET", SHARED_PATH, params=shared_params(offset, limit))
            try:
                page = parse_shared_page(payload)
            except ValueError as exc:
                raise UpstreamError(str(exc)) from None
            raw_count = len(payload.get("items") or [])
            yield page
            fresh = {link.id for link in page} - seen
            seen |= fresh
            # A short page ends the list; so does a page with nothing new (a server that
            # ignores offset would otherwise be paged forever).
            if raw_count < limit or not fresh:
                return
            offset += raw_count

    async def gen_title(self, conversation_id: str, message_id: str) -> GenTitleAnswer:
        path = f"conversation/gen_title/{conversation_id}"
        return parse_gen_title(await self._call("POST", path, json=gen_title_body(message_id)))

    async def patch_title(self, conversation_id: str, title: str) -> bool:
        path = f"conversation/{conversation_id}"
        return parse_success(await self._call("PATCH", path, json=title_patch_body(title)))

    async def request_export(self) -> Any:
        return await self._call("POST", EXPORT_PATH)

    async def _call(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, json: Any = None
    ) -> Any:
        """The JSON answer of an API path, asked with the account's headers."""
        return await self.http.request_json(
            method,
            self.settings.url(path),
            headers=self.settings.headers(),
            params=params,
            json=json,
        )


def with_policy(http: HttpClient, policy: RetryPolicy) -> HttpClient:
    """The same transport, limiter and request counters under another retry policy (for side
    requests that should not retry as hard as the main work)."""
    if isinstance(http, ChatGPTHttp):  # keep the sign-in and the host binding
        sibling: HttpClient = ChatGPTHttp(
            http.transport, http.limiter, policy, settings=http.settings
        )
    else:
        sibling = HttpClient(http.transport, http.limiter, policy, auth_message=http.auth_message)
    sibling.stats = http.stats
    return sibling


@asynccontextmanager
async def open_account_client(
    settings: ChatGPTSettings, *, pace: ClientPace = DEFAULT_PACE
) -> AsyncIterator[AccountClient]:
    """One transport and one limiter for the account, as a backup run has."""
    async with open_chatgpt_http(settings, pace) as http:
        yield AccountClient(ChatGPTClient(http, settings))
