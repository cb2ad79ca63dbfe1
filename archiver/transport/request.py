"""One request, described once, and encoded once (sans-I/O).

Every HttpClient method (JSON, JSON with headers, streamed, ChatGPT's signed send-once) takes
the same options; declaring them here once keeps those signatures from drifting apart, and lets
a subclass change one field (ChatGPT's signed headers) without restating the rest.

A body is one of: ``json`` (a value, sent as JSON), ``data`` (bytes, with ``content_type``) or
``form`` (a multipart/form-data form: text fields and files, as the OpenAI Files API wants).
Query ``params`` and the body are encoded here, not by a transport, so that every transport
(and a test's MockTransport) sees exactly the same URL and bytes.
"""

from __future__ import annotations

import json as jsonlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypedDict
from urllib.parse import urlencode, urlsplit, urlunsplit


@dataclass(frozen=True)
class FormField:
    """One part of a multipart form: a text field, or a file when ``filename`` is given."""

    name: str
    value: str | bytes
    filename: str | None = None
    content_type: str | None = None


class RequestOptions(TypedDict, total=False):
    """What a request carries besides its method and URL."""

    headers: Mapping[str, str] | None
    params: Mapping[str, str] | None
    json: Any
    data: bytes | None
    content_type: str | None
    form: Sequence[FormField] | None


# Current desktop browsers on Windows, the ones credentials are most often copied from: the
# edges in front of the web apps challenge or refuse clients that do not look like one. Kept
# here so that a version bump is made once, for every provider.
CHROME_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/142.0.0.0 Safari/537.36"
)
EDGE_USER_AGENT = f"{CHROME_USER_AGENT} Edg/142.0.0.0"
FIREFOX_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:144.0) Gecko/20100101 Firefox/144.0"
)


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
    form: Sequence[FormField] | None = None

    def __post_init__(self) -> None:
        given = [self.json is not None, self.data is not None, self.form is not None]
        if sum(given) > 1:
            raise ValueError("a request has one body: json, data or form")

    def with_headers(self, headers: Mapping[str, str]) -> Request:
        return replace(self, headers=headers)

    def full_url(self) -> str:
        """The URL with ``params`` added to its query."""
        if not self.params:
            return self.url
        parts = urlsplit(self.url)
        extra = urlencode(list(self.params.items()))
        query = f"{parts.query}&{extra}" if parts.query else extra
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))

    def body(self) -> tuple[bytes | None, str | None]:
        """The bytes to send and their Content-Type (None, None without a body)."""
        if self.json is not None:
            return jsonlib.dumps(self.json).encode("utf-8"), "application/json"
        if self.data is not None:
            return self.data, self.content_type or "application/octet-stream"
        if self.form is not None:
            return encode_multipart(self.form)
        return None, None

    def encode(self) -> tuple[str, dict[str, str], bytes | None]:
        """What goes on the wire: the full URL, the caller's headers plus the body's
        Content-Type (unless the caller set one), and the body."""
        body, content_type = self.body()
        headers = dict(self.headers or {})
        if content_type and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = content_type
        return self.full_url(), headers, body


def encode_multipart(fields: Sequence[FormField], boundary: str | None = None) -> tuple[bytes, str]:
    """RFC 7578 multipart/form-data: the body and its Content-Type (with the boundary, which
    appears in no part's content)."""
    contents = [f.value.encode("utf-8") if isinstance(f.value, str) else f.value for f in fields]
    boundary = boundary or f"archiver-{uuid.uuid4().hex}"
    while any(boundary.encode() in content for content in contents):
        boundary = f"archiver-{uuid.uuid4().hex}"
    out = bytearray()
    for field in fields:
        disposition = f'form-data; name="{_quoted(field.name)}"'
        if field.filename is not None:
            disposition += f'; filename="{_quoted(field.filename)}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        content_type = field.content_type or (
            "application/octet-stream" if field.filename is not None else None
        )
        if content_type:
            out += f"Content-Type: {content_type}\r\n".encode()
        value = field.value.encode("utf-8") if isinstance(field.value, str) else field.value
        out += b"\r\n" + value + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def _quoted(text: str) -> str:
    """A name inside a quoted header parameter: quotes and line ends escaped as browsers do."""
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
