"""Bing chat's options, declared once (``archiver backup bing`` and its job kind; Bing's keys
of ``archiver batch``). Light: no HTTP client."""

from __future__ import annotations

from archiver.backup.options import common_backup_options
from archiver.config import Credential
from archiver.options import Option, credential, http_url

DEFAULT_BING_BASE_URL = "https://www.bing.com"
DEFAULT_SYDNEY_BASE_URL = "https://sydney.bing.com"
PROVIDER = "bing"
COOKIE_ENV = "BING_COOKIE"
COOKIE = Credential(COOKIE_ENV, "Bing cookie", stem="cookie")
TONES = ("Balanced", "Creative", "Precise")  # conversation styles; the first is the default


def host_options(base_url_key: str) -> dict[str, Option]:
    """The hosts and the cookie. ``backup bing`` names the Bing host ``base_url``; the batch job
    kind, beside the other providers' keys, ``bing_base_url``."""
    return {
        base_url_key: Option(
            http_url, DEFAULT_BING_BASE_URL, "Bing host (chat list, create)", cli=False
        ),
        "sydney_base_url": Option(
            http_url, DEFAULT_SYDNEY_BASE_URL, "Sydney host (history, ChatHub)", cli=False
        ),
        **credential(COOKIE.stem, COOKIE_ENV, COOKIE.what),
    }


BACKUP_OPTIONS: dict[str, Option] = {
    **host_options("base_url"),
    **common_backup_options(default_rpm=20.0, listed="chats"),
}
SEND_OPTIONS: dict[str, Option] = host_options("bing_base_url")
