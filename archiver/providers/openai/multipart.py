"""``multipart/form-data`` (RFC 7578) for ``POST /files``. Pure.

The transport sends raw bytes with a content type (``Request.data``); this builds them: text
fields, then files, each part with its own headers, between boundaries that appear nowhere in
the content."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FilePart:
    name: str  # the form field
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


def _quoted(text: str) -> str:
    """A name inside a quoted header parameter, escaped as browsers do."""
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def multipart_form(
    fields: Sequence[tuple[str, str]], files: Sequence[FilePart], boundary: str | None = None
) -> tuple[bytes, str]:
    """The body and its Content-Type header (which carries the boundary)."""
    contents = [value.encode("utf-8") for _, value in fields] + [f.content for f in files]
    boundary = boundary or f"archiver-{uuid.uuid4().hex}"
    while any(boundary.encode() in content for content in contents):
        boundary = f"archiver-{uuid.uuid4().hex}"
    out = bytearray()
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'.encode()
        out += value.encode("utf-8") + b"\r\n"
    for part in files:
        disposition = f'form-data; name="{_quoted(part.name)}"; filename="{_quoted(part.filename)}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        out += f"Content-Type: {part.content_type}\r\n\r\n".encode()
        out += part.content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"
