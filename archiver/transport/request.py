"""One request, described once.

Every HttpClient method (JSON, JSON with headers, streamed, ChatGPT's signed send-once) and both
sessions (aiohttp's, CurlSession) take the same options; declaring them here once keeps those
signatures from drifting apart, and lets a subclass change one field (ChatGPT's signed
headers) without restating the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, TypedDict


class RequestOptions(TypedDict, total=False):
    """What a request carries besides its method and URL, named as aiohttp's
    ``session.request`` names it."""

    headers: Mapping[str, str] | None
    params: Mapping[str, str] | None
    json: Any


def browser_headers(base_url: str, user_agent: str) -> dict[str, str]:
    """What a web app's own requests carry besides credentials: the browser's User-Agent, JSON
    accepted, and the app as Origin and Referer."""
    origin = base_url.rstrip("/")
    return {
        "User-Agent": user_agent,
        "Accept": "application/json",
        "Accept-Language": "en-US,en;q=0.9",
        "Origin": origin,
        "Referer": origin + "/",
    }


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: Mapping[str, str] | None = None
    params: Mapping[str, str] | None = None
    json: Any = None

    def with_headers(self, headers: Mapping[str, str]) -> Request:
        return replace(self, headers=headers)

    def options(self) -> RequestOptions:
        return {"headers": self.headers, "params": self.params, "json": self.json}
