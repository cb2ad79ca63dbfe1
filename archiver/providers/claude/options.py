"""Claude's options, declared once: ``archiver backup claude``'s flags and the ``backup claude``
job kind's keys; Claude's keys of ``archiver batch`` (prefixed ``claude_``, beside the other
providers'). Light on purpose: the registry imports it to list and generate commands."""

from __future__ import annotations

from archiver.backup.options import common_backup_options, file_options
from archiver.config import Credential
from archiver.options import Option, credential, http_url

PROVIDER = "claude"
# Bump when a flattener change should re-derive rows whose raw JSON is unchanged (reflatten).
FLATTENER_VERSION = 1
DEFAULT_BASE_URL = "https://claude.ai"  # the web app's API is under /api
SESSION_ENV = "CLAUDE_SESSION_KEY"  # the sessionKey cookie's value, or a whole Cookie header
SESSION = Credential(SESSION_ENV, "claude.ai session key", stem="session")
BASE_URL_ENV = "CLAUDE_BASE_URL"
USER_AGENT_ENV = "CLAUDE_USER_AGENT"
# The parent a conversation's first message names: a sentinel, not a message.
ROOT_PARENT = "00000000-0000-4000-8000-000000000000"
DEFAULT_BACKUP_RPM = 30.0
DEFAULT_VARIANT = "default"  # claude/default: the account's own default model

BACKUP_OPTIONS: dict[str, Option] = {
    "base_url": Option(http_url, DEFAULT_BASE_URL, "claude.ai host (the emulator)", cli=False),
    **credential(SESSION.stem, SESSION_ENV, SESSION.what),
    **common_backup_options(default_rpm=DEFAULT_BACKUP_RPM),
    **file_options("uploaded files and images"),
}

# Claude's keys of the ``batch`` job kind and of `archiver batch` / `archiver serve`.
SEND_OPTIONS: dict[str, Option] = {
    "claude_base_url": Option(http_url, DEFAULT_BASE_URL, "claude.ai host", cli=False),
    **credential(f"claude_{SESSION.stem}", SESSION_ENV, SESSION.what),
}
