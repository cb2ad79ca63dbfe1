"""Claude (claude.ai), as the registry names it: what it can do, declared."""

from __future__ import annotations

from archiver.providers import base
from archiver.providers.claude import options


class Claude(base.Provider):
    """claude.ai: every conversation and branch, projects, artifacts, files; sends prompts"""

    title = "Claude"

    account = base.Account(secret="session", secret_env=options.SESSION_ENV)
    backup = base.Backup(
        options=options.BACKUP_OPTIONS,
        help="""Archive every claude.ai conversation, every branch, into DB: every organization
    with chats, archived and starred chats and those in Projects, the projects and their
    documents, artifacts, pasted text, uploaded files and images.

    Reads the session from CLAUDE_SESSION_KEY (the sessionKey cookie's value, or a whole
    Cookie header copied from a signed-in browser) or --session-file, the host from
    CLAUDE_BASE_URL and the browser's User-Agent from CLAUDE_USER_AGENT. Later runs fetch only
    conversations whose updated_at changed. A throttle longer than --max-wait stops the run.
    """,
    )
    sending = base.Sending(
        options=options.SEND_OPTIONS,
        key_prefix="claude_",
        default_rpm=10.0,
        model_help=f"claude.ai model (e.g. claude-sonnet-4-5; '{options.DEFAULT_VARIANT}': the account's)",
        tree=True,
    )
    export = base.ExportFormat(label="a Claude data export")
    doctor = base.Doctor()
    emulator = base.Emulator()
    gateway = base.Gateway(
        variants=(options.DEFAULT_VARIANT,), default_variant=options.DEFAULT_VARIANT
    )
    renderer = base.Renderer(web_url="https://claude.ai/chat/{id}")
    reflatten = base.Reflatten(version=options.FLATTENER_VERSION)
