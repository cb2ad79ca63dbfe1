"""ChatGPT (chatgpt.com), as the registry names it: what it can do, declared."""

from __future__ import annotations

from archiver.providers import base
from archiver.providers.chatgpt.options import (
    BACKUP_OPTIONS,
    DEFAULT_BATCH_RPM,
    FLATTENER_VERSION,
    SEND_OPTIONS,
    TOKEN_ENV,
)


class ChatGPT(base.Provider):
    name = "chatgpt"
    title = "ChatGPT"
    summary = "chatgpt.com: every conversation and branch, projects, files; sends prompts"
    conversation_web_url = "https://chatgpt.com/c/{id}"

    account = base.Account(secret="token", secret_env=TOKEN_ENV)
    backup = base.Backup(
        module="jobs",
        options=BACKUP_OPTIONS,
        help="""Archive every ChatGPT conversation, every branch, into DB.

    Reads the access token from CHATGPT_ACCESS_TOKEN (or --token-file), the base URL from
    CHATGPT_BASE_URL and an optional team workspace from CHATGPT_ACCOUNT_ID. Later runs fetch
    only what changed. One run per DB at a time; each run is recorded in the `runs` table. If
    a 429 left the account cooling down, waits up to --max-cooldown-wait seconds, else skips
    (exit 0). Exit codes: 0 ok, 1 failed, 2 usage/auth/config, 3 partial, 75 DB in use by
    another run.
    """,
    )
    sending = base.Sending(
        options=SEND_OPTIONS, default_rpm=DEFAULT_BATCH_RPM, model_help="model slug", tree=True
    )
    export = base.ExportFormat(label="a ChatGPT data export")
    doctor = base.Doctor()
    emulator = base.Emulator(module="fake")
    gateway = base.Gateway(
        takes_bare_models=True,
        bare_models_help="ChatGPT model slugs listed by /v1/models (repeat; default: auto).",
        route_family="seed004",
    )
    renderer = base.Renderer()
    reflatten = base.Reflatten(version=FLATTENER_VERSION)
