"""Gemini's options and constants, declared once (``archiver backup gemini`` and its job kind).
Light: no HTTP client."""

from __future__ import annotations

from archiver.backup.options import common_backup_options, file_options
from archiver.config import Credential
from archiver.options import Option, credential, http_url

PROVIDER = "gemini"
DEFAULT_BASE_URL = "https://gemini.google.com"
COOKIE_ENV = "GEMINI_COOKIE"
COOKIE = Credential(COOKIE_ENV, "Gemini cookie", stem="cookie")
BASE_URL_ENV = "GEMINI_BASE_URL"
DEFAULT_BACKUP_RPM = 20.0
IMAGE_RPM = 120.0  # image hosts are not the account: a pace of their own, still bounded

# The batchexecute RPCs a backup reads with (docs/protocol/gemini.md); it never sends others.
LIST_RPC = "MaZiqc"
READ_RPC = "hNvQHb"
LIST_PAGE_SIZE = 100  # chats per list page (the app asks 13 to 100)
READ_PAGE_SIZE = 100  # turns per read page; older turns follow the continuation token
FLATTENER_VERSION = 1
TAKEOUT_POINTER = "takeout://"  # an upload's attachment pointer: takeout://<its export name>

# What a refused cookie says: which cookie, and what to do.
AUTH_REFUSED = (
    f"Gemini refused the cookie ({COOKIE_ENV}: __Secure-1PSID and __Secure-1PSIDTS): signed out, or "
    "another account's; __Secure-1PSIDTS expires often, so copy a fresh Cookie header from a "
    "browser signed in to gemini.google.com"
)

BACKUP_OPTIONS: dict[str, Option] = {
    "base_url": Option(http_url, DEFAULT_BASE_URL, "Gemini host", cli=False),
    **credential(COOKIE.stem, COOKIE_ENV, "Gemini cookie (a Cookie header)"),
    **common_backup_options(default_rpm=DEFAULT_BACKUP_RPM, listed="chats"),
    **file_options("images answers show"),
}
