"""ChatGPT (chatgpt.com), as the registry names it: what it can do, declared."""

from __future__ import annotations

from archiver.providers import base
from archiver.providers.chatgpt import options


class ChatGPT(base.Provider):
    """chatgpt.com: every conversation and branch, projects, files; sends prompts"""

    title = "ChatGPT"

    account = base.Account(secret="token", secret_env=options.TOKEN_ENV)
    backup = base.Backup(
        module="jobs",
        options=options.BACKUP_OPTIONS,
        help="""Archive every ChatGPT conversation, every branch, into DB.

    Reads the access token from CHATGPT_ACCESS_TOKEN (or --token-file), the base URL from
    CHATGPT_BASE_URL and an optional team workspace from CHATGPT_ACCOUNT_ID. Later runs fetch
    only what changed. One run per DB at a time; each run is recorded in the `runs` table. If
    a 429 left the account cooling down, waits up to --max-cooldown-wait seconds, else skips
    (exit 0).
    """,
    )
    sending = base.Sending(
        options=options.SEND_OPTIONS,
        model_help="model slug",
        tree=True,
    )
    export = base.ExportFormat(label="a ChatGPT data export")
    doctor = base.Doctor()
    emulator = base.Emulator(module="fake")
    gateway = base.Gateway(
        takes_bare_models=True,
        bare_models_help="ChatGPT model slugs listed by /v1/models (repeat; default: auto).",
        route_family="seed004",
    )
    renderer = base.Renderer(web_url="https://chatgpt.com/c/{id}")
    reflatten = base.Reflatten(version=options.FLATTENER_VERSION)
    tools = base.Tools(
        tools=(
            base.Tool(
                name="shared",
                options=options.SHARED_OPTIONS,
                help="""List which archived conversations are publicly shared (created, link, title).

    Without --refresh it reads the archive only. With --refresh it first reads
    shared_conversations from ChatGPT and archives it; links no longer listed are marked
    as unshared, never deleted. Exit codes: 0 ok, 1 other failures, 2 token refused,
    3 stopped by a challenge page or a throttle (what was read is kept).
    """,
            ),
            base.Tool(
                name="titles",
                options=options.TITLES_OPTIONS,
                help="""Give untitled ChatGPT conversations (no title, or "New chat") a title.

    Asks conversation/gen_title for each, which sets the title upstream, and writes it to
    the archive. When upstream keeps a "New chat" placeholder, the first line of the first
    prompt is sent with PATCH instead. Only untitled conversations by default (--all for
    every one); --dry-run needs no token. Exit codes: 0 ok, 2 token refused, 3 some failed.
    """,
            ),
            base.Tool(
                name="request-export",
                options=options.REQUEST_EXPORT_OPTIONS,
                job_kind=True,
                help="""Ask ChatGPT to e-mail the official data export (POST accounts/data_export).

    The request and its answer are recorded in the export_requests table. Import the zip
    when it arrives. Exit codes: 0 ok, 2 token refused, 1 other failures.
    """,
            ),
        )
    )
