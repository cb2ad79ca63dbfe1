"""Link targets taken from archived content, judged the way a browser will read them.

Everything archived came from elsewhere (upstream services, exports, any holder of a gateway
key), so a URL in it is hostile until shown otherwise. A browser does not read an ``href`` as
it is written: WHATWG URL parsing first drops C0 controls and spaces at both ends, removes
tabs and newlines anywhere, and reads the scheme case-insensitively; for http(s) and file
pages a backslash is a slash. So ``"\\x01javascript:..."`` and ``"java\\nscript:..."`` are
``javascript:`` links. Here the URL is normalised first, exactly so, and the normalised form
is what gets checked and what gets written out: the checked string is the one the browser
sees.

Allowed: ``http``, ``https``, ``mailto`` and relative links (paths on the same origin: the
viewer's own routes, or files beside an export). Anything else (``javascript:``,
``vbscript:``, ``data:``, ``file-service://`` pointers, unknown schemes that would start an
external program) is not a link: callers show it as text.
"""

from __future__ import annotations

import html
import re

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
# What a browser strips from both ends (C0 controls and space) and removes anywhere.
_ENDS = "".join(chr(c) for c in range(0x21))
_TAB_NEWLINE = str.maketrans("", "", "\t\n\r")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# A second, looser reading: any control, format or space character removed anywhere. A URL
# that reads as a forbidden scheme this way is refused even if the strict reading saw none:
# browsers have differed here before, and such a link is never a legitimate one.
_LOOSE_DROP = re.compile(r"[\x00-\x20\x7f-\x9f\u00a0\u00ad\u1680\u2000-\u200f\u2028-\u202f\ufeff]")
_RASTER_DATA = re.compile(r"data:image/(?:png|jpeg|gif|webp|avif|bmp)[;,]", re.IGNORECASE)
# CommonMark decodes backslash escapes of ASCII punctuation in a link destination.
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def normalise(url: str) -> str:
    """``url`` as a browser's URL parser reads it, before resolving: C0 controls and spaces
    stripped at both ends, tabs and newlines removed anywhere."""
    return url.strip(_ENDS).translate(_TAB_NEWLINE)


def scheme_of(url: str) -> str | None:
    """The scheme (lower case) of a normalised URL, or None for a relative one."""
    match = _SCHEME.match(url)
    return match[1].lower() if match else None


def _loose_scheme(url: str) -> str | None:
    return scheme_of(_LOOSE_DROP.sub("", url))


def _allowed(url: str) -> bool:
    strict = scheme_of(url)
    loose = _loose_scheme(url)
    return (strict is None or strict in LINK_SCHEMES) and (loose is None or loose in LINK_SCHEMES)


def safe_href(url: str) -> str | None:
    """The link target to write for ``url`` (normalised, backslashes of a relative link made
    slashes as the browser would), or None when it must not be a link."""
    if not isinstance(url, str):
        return None
    href = normalise(url)
    if not href or not _allowed(href):
        return None
    if scheme_of(href) is None:
        href = href.replace("\\", "/")
    return href


def safe_markdown_href(url: str) -> str | None:
    """``safe_href`` for a Markdown link destination, which a Markdown renderer decodes first
    (backslash escapes, then character references such as ``&#58;``): both readings must be
    safe."""
    href = safe_href(url)
    if href is None:
        return None
    decoded = html.unescape(_MD_ESCAPE.sub(r"\1", normalise(url)))
    return href if safe_href(decoded) is not None else None


def is_local(href: str) -> bool:
    """A relative link that stays on the page's own origin: not ``//host`` (nor ``/\\host``,
    the same thing to a browser). Only these may load without a click (images)."""
    return scheme_of(href) is None and not href.replace("\\", "/").startswith("//")


def inline_image_src(url: str) -> str | None:
    """Where an ``<img>`` may load ``url`` from without a click: a local path or a raster
    ``data:`` image. A remote image is not loaded on its own (it would tell a third party
    that the page was opened): None, and the caller links to it instead."""
    href = normalise(url) if isinstance(url, str) else ""
    if _RASTER_DATA.match(href):
        return href
    safe = safe_href(href)
    return safe if safe is not None and is_local(safe) else None


__all__ = [
    "LINK_SCHEMES",
    "inline_image_src",
    "is_local",
    "normalise",
    "safe_href",
    "safe_markdown_href",
    "scheme_of",
]
