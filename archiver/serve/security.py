"""What keeps other sites out of the gateway, and archived content inert in a browser.

- **Host.** On loopback the viewer needs no key, so a web page that rebinds its own domain to
  127.0.0.1 (DNS rebinding) would read the archive with the user's browser. A request is
  answered only if its ``Host`` names the address the gateway listens on: on loopback a
  loopback address or ``localhost``; on every address (``0.0.0.0``, ``::``) any IP literal
  (a rebound page always sends its own domain name); otherwise the address given with
  ``--host``; plus each name given with ``--allowed-host`` (a reverse proxy's name).
- **Origin.** A state-changing request (anything but GET, HEAD, OPTIONS) whose ``Origin`` is
  another site's (or ``null``) is refused: no other page can sign in, send a prompt or delete
  through a browser that can reach the gateway. Clients that send no ``Origin`` (curl, SDKs)
  are not browsers and are not affected. ``--cors-origin`` names the one foreign origin the
  API accepts.
- **Headers.** Every answer says ``nosniff``, no referrer, never framed, and carries a strict
  Content-Security-Policy (``render.content_security_policy``: the viewer's one script file,
  nothing inline, no remote image). A file of the archive is also sandboxed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from archiver.query.render import content_security_policy
from archiver.serve.common import ServeOptions, context

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PAGE_CSP = content_security_policy(script_src="'self'")
# A file of the archive: never a document that runs anything (a raster image still shows
# when opened on its own: the browser's image page needs its inline style).
FILE_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_WILDCARDS = ("", "0.0.0.0", "::")


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def host_name(host_header: str | None) -> str:
    """The name in a ``Host`` header: lower case, no port, no IPv6 brackets ('' if none)."""
    if not host_header:
        return ""
    try:
        return (urlsplit("//" + host_header.strip()).hostname or "").rstrip(".")
    except ValueError:
        return ""


def host_allowed(name: str, options: ServeOptions) -> bool:
    """Whether a request for host ``name`` (``host_name``) is one for this gateway."""
    if not name:
        return False
    if name in {h.lower().rstrip(".") for h in options.allowed_hosts}:
        return True
    bind = options.host.strip("[]").lower()
    ip = _ip(name)
    if bind in _WILDCARDS:
        return ip is not None or name == "localhost"
    if options.loopback:
        return name == "localhost" or (ip is not None and ip.is_loopback)
    return name == bind or (ip is not None and ip == _ip(bind))


def origin_allowed(request: web.Request, options: ServeOptions) -> bool:
    """A state-changing request's ``Origin``: absent, the configured CORS origin, or the very
    host the request was sent to."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    if options.cors_origin and origin == options.cors_origin:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() == request.host.lower()


def _refused(message: str) -> web.Response:
    return web.Response(status=403, text=message + "\n", content_type="text/plain")


@web.middleware
async def guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: a request for another host, or a foreign page's attempt to change state, is
    refused before anything is read or looked up."""
    options = context(request).options
    if not host_allowed(host_name(request.headers.get("Host")), options):
        return _refused(
            "this gateway does not answer to that Host (DNS rebinding protection); "
            "start it with --allowed-host NAME to use another name"
        )
    if request.method not in SAFE_METHODS and not origin_allowed(request, options):
        return _refused("a request from another site's page is refused (Origin)")
    return await handler(request)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    file = request.path.startswith("/file/")
    headers["Content-Security-Policy"] = FILE_CSP if file else PAGE_CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    # No other site may embed the archive's files or pages (an <img> needs no CORS).
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")


def protect(app: web.Application) -> None:
    app.on_response_prepare.append(security_headers)


__all__ = [
    "FILE_CSP",
    "PAGE_CSP",
    "guard_middleware",
    "host_allowed",
    "host_name",
    "origin_allowed",
    "protect",
]
