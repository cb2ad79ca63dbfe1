"""Microsoft Copilot's options, declared once (``archiver backup copilot`` and its job kind;
Copilot's keys of ``archiver batch``). Light: no HTTP client."""

from __future__ import annotations

from archiver.backup.options import common_backup_options, file_options
from archiver.config import Credential
from archiver.options import Option, credential, http_url, text

PROVIDER = "copilot"
DEFAULT_BASE_URL = "https://copilot.microsoft.com"
TOKEN_ENV = "COPILOT_ACCESS_TOKEN"
TOKEN = Credential(TOKEN_ENV, "Copilot token")
IDENTITY_ENV = "COPILOT_IDENTITY_TYPE"
BASE_URL_ENV = "COPILOT_BASE_URL"
USER_AGENT_ENV = "COPILOT_USER_AGENT"
MODES = ("chat", "smart", "reasoning")  # the chat socket's modes; the first is the default
DEFAULT_BACKUP_RPM = 20.0
IMAGE_RPM = 120.0  # image hosts are not the account: a pace of their own, still bounded

BACKUP_OPTIONS: dict[str, Option] = {
    "base_url": Option(http_url, DEFAULT_BASE_URL, "Copilot host", cli=False),
    "identity_type": Option(text, None, "x-useridentitytype header (e.g. google)", cli=False),
    **credential(TOKEN.stem, TOKEN_ENV, TOKEN.what),
    **common_backup_options(default_rpm=DEFAULT_BACKUP_RPM),
    **file_options("images messages show"),
}
# Copilot's keys of the ``batch`` job kind (and `archiver batch`): prefixed, beside the others.
SEND_OPTIONS: dict[str, Option] = {
    "copilot_base_url": Option(http_url, DEFAULT_BASE_URL, "Copilot host", cli=False),
    "copilot_identity_type": Option(text, None, "Copilot x-useridentitytype header", cli=False),
    **credential(f"copilot_{TOKEN.stem}", TOKEN_ENV, TOKEN.what),
}
