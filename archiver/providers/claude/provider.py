"""Claude (claude.ai), as the rest of archiver sees it: the one class the registry names.
Declarations only: each capability's work is in the module of this package that
``archiver/providers/modules.py`` names, imported when it is used."""

from __future__ import annotations

from archiver.providers.base import (
    Account,
    Backup,
    Doctor,
    Emulator,
    ExportFormat,
    Gateway,
    Provider,
    Reflatten,
    Renderer,
    Sending,
)
from archiver.providers.claude.options import (
    BACKUP_OPTIONS,
    DEFAULT_BATCH_RPM,
    DEFAULT_VARIANT,
    FLATTENER_VERSION,
    SEND_OPTIONS,
    SESSION_ENV,
)


class Claude(Provider):
    name = "claude"
    title = "Claude"
    summary = "claude.ai: every conversation and branch, projects, artifacts, files; sends prompts"
    conversation_web_url = "https://claude.ai/chat/{id}"

    account = Account(secret="session", secret_env=SESSION_ENV)
    backup = Backup(
        options=BACKUP_OPTIONS,
        help="""Archive every claude.ai conversation, every branch, into DB: every organization
    with chats, archived and starred chats and those in Projects, the projects and their
    documents, artifacts, pasted text, uploaded files and images.

    Reads the session from CLAUDE_SESSION_KEY (the sessionKey cookie's value, or a whole
    Cookie header copied from a signed-in browser) or --session-file, the host from
    CLAUDE_BASE_URL and the browser's User-Agent from CLAUDE_USER_AGENT. Later runs fetch only
    conversations whose updated_at changed. Exit codes: 0 ok, 1 failed, 2 usage/auth/config (a
    refused session key: copy a fresh one), 3 partial (some failed, a Cloudflare check, a
    throttle longer than --max-wait), 75 DB in use by another run.
    """,
    )
    sending = Sending(
        options=SEND_OPTIONS,
        default_rpm=DEFAULT_BATCH_RPM,
        model_help=f"claude.ai model (e.g. claude-sonnet-4-5; '{DEFAULT_VARIANT}': the account's)",
        tree=True,
    )
    export = ExportFormat(label="a Claude data export")
    doctor = Doctor()
    emulator = Emulator()
    gateway = Gateway(variants=(DEFAULT_VARIANT,), default_variant=DEFAULT_VARIANT)
    renderer = Renderer()
    reflatten = Reflatten(version=FLATTENER_VERSION)
