"""Bing chat (Sydney), as the registry names it: what it can do, declared."""

from __future__ import annotations

from archiver.flatten.records import FLATTENER_VERSION
from archiver.providers import base
from archiver.providers.bing import options


class Bing(base.Provider):
    """Bing chat (Sydney): saved chats and their histories; sends prompts"""

    title = "Bing chat"

    account = base.Account(secret="cookie", secret_env=options.COOKIE_ENV)
    backup = base.Backup(
        options=options.BACKUP_OPTIONS,
        help="""Archive every saved Bing chat (the chat list and each chat's history) into DB.

    Reads the cookie from BING_COOKIE (a _U value or a whole Cookie header) or --cookie-file,
    and the hosts from BING_BASE_URL and SYDNEY_BASE_URL. Later runs fetch only chats whose
    update time changed.
    """,
    )
    sending = base.Sending(
        options=options.SEND_OPTIONS,
        key_prefix="bing_",
        model_help="tone: " + ", ".join(options.TONES),
    )
    doctor = base.Doctor()
    emulator = base.Emulator(module="fake")
    gateway = base.Gateway(
        variants=options.TONES, default_variant=options.TONES[0], route_family="seed000"
    )
    reflatten = base.Reflatten(version=FLATTENER_VERSION)
