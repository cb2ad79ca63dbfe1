"""One request, described once.

Every HttpClient method (JSON, JSON with headers, streamed, ChatGPT's signed send-once) and both
sessions (aiohttp's, CurlSession) take the same options; declaring them here once keeps those
signatures from drifting apart, and lets a subclass change one field (ChatGPT's signed
headers) without restating the rest.

A body is ``json`` (a value, sent as JSON) or ``data`` (bytes, sent as they are, labelled
``content_type``: a multipart form or a file's bytes).
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
    data: bytes | None
    content_type: str | None  # of ``data``; folded into the headers, never sent as a keyword


class SessionOptions(TypedDict, total=False):
    """What a session's ``request`` is given (``Request.options``): the body's type is in
    the headers by then."""

    headers: Mapping[str, str] | None
    params: Mapping[str, str] | None
    json: Any
    data: bytes | None


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
    data: bytes | None = None
    content_type: str | None = None

    def __post_init__(self) -> None:
        if self.json is not None and self.data is not None:
            raise ValueError("a request has one body: json or data")

    def with_headers(self, headers: Mapping[str, str]) -> Request:
        return replace(self, headers=headers)

    def options(self) -> SessionOptions:
        """The keywords of aiohttp's ``session.request``: ``data`` with its Content-Type header
        (unless the caller set one)."""
        if self.data is None:
            return {"headers": self.headers, "params": self.params, "json": self.json}
        headers = dict(self.headers or {})
        if self.content_type and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = self.content_type
        return {"headers": headers, "params": self.params, "data": self.data}
