"""Microsoft Copilot (copilot.microsoft.com), as the registry names it: what it can do."""

from __future__ import annotations

from archiver.flatten.records import FLATTENER_VERSION
from archiver.providers import base
from archiver.providers.copilot import options


class Copilot(base.Provider):
    """copilot.microsoft.com (Bing chat's successor): chats and their images; sends prompts"""

    title = "Microsoft Copilot"

    account = base.Account(secret="token", secret_env=options.TOKEN_ENV)
    backup = base.Backup(
        options=options.BACKUP_OPTIONS,
        help="""Archive every Microsoft Copilot conversation (the list and each one's history) into DB.

    Reads the token from COPILOT_ACCESS_TOKEN (or --token-file; a token lasts about a day),
    the account type header from COPILOT_IDENTITY_TYPE and the host from COPILOT_BASE_URL.
    Later runs fetch only conversations whose updatedAt changed.
    """,
    )
    sending = base.Sending(
        options=options.SEND_OPTIONS,
        key_prefix="copilot_",
        default_rpm=15.0,  # about what one account takes before upstream 502s (§5)
        model_help="mode: " + ", ".join(options.MODES),
    )
    doctor = base.Doctor()
    emulator = base.Emulator(module="fake")
    gateway = base.Gateway(variants=options.MODES, default_variant="", route_family="seed000")
    renderer = base.Renderer(web_url="https://copilot.microsoft.com/chats/{id}")
    reflatten = base.Reflatten(version=FLATTENER_VERSION)
