"""Google Gemini (live and Takeout), as the registry names it: what it can do."""

from __future__ import annotations

from archiver.providers import base
from archiver.providers.gemini import options


class Gemini(base.Provider):
    """gemini.google.com: every chat, turn and draft, thoughts; Google Takeout import"""

    title = "Gemini"

    account = base.Account(secret="cookie", secret_env=options.COOKIE_ENV)
    backup = base.Backup(
        options=options.BACKUP_OPTIONS,
        help="""Archive every Gemini chat (pinned and others), every turn and every response
    candidate (drafts), thoughts kept, into DB.

    Reads a Cookie header for gemini.google.com from GEMINI_COOKIE (or --cookie-file, mode 0600):
    it must hold __Secure-1PSID and __Secure-1PSIDTS. The host comes from GEMINI_BASE_URL. Later
    runs read only chats the list shows changed. The images answers show are then downloaded
    into the file store, with no cookie (--no-files: none).
    """,
    )
    export = base.ExportFormat(label="a Google Takeout with Gemini Apps activity (My Activity)")
    emulator = base.Emulator()
    reflatten = base.Reflatten(version=options.FLATTENER_VERSION)

    def conversation_url(self, conversation_id: str) -> str | None:
        """``c_<id>`` lives at ``/app/<id>``; a chat only a Takeout named has no address."""
        if conversation_id.startswith("c_"):
            return f"https://gemini.google.com/app/{conversation_id.removeprefix('c_')}"
        return None
