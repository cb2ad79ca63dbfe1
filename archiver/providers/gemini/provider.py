"""Google Gemini, as the rest of archiver sees it: the one class the registry names. Light to
import: each capability loads its modules when it is used."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from archiver.options import JobValues
from archiver.providers.base import Backup, Emulator, ExportFormat, Provider, Reflatten
from archiver.providers.gemini.options import (
    BACKUP_OPTIONS,
    BASE_URL_ENV,
    COOKIE_ENV,
    FLATTENER_VERSION,
)
from archiver.providers.gemini.render import GeminiRenderer

if TYPE_CHECKING:
    import sqlite_utils
    from aiohttp import web

    from archiver.backup.engine import BackupSummary
    from archiver.flatten.records import FlatConversation
    from archiver.importer.source import ExportFiles, ImportOptions
    from archiver.progress import Progress
    from archiver.providers.gemini.client import GeminiSettings
    from archiver.summary import Summary


class GeminiBackup(Backup["GeminiSettings"]):
    options = BACKUP_OPTIONS
    help = """Archive every Gemini chat (pinned and others), every turn and every response
    candidate (drafts), thoughts kept, into DB.

    Reads a Cookie header for gemini.google.com from GEMINI_COOKIE (or --cookie-file, mode 0600):
    it must hold __Secure-1PSID and __Secure-1PSIDTS. The host comes from GEMINI_BASE_URL. Later
    runs read only chats the list shows changed. Exit codes: 0 ok, 1 failed, 2 usage/auth/config
    (a refused cookie: copy a fresh one), 3 partial (some chats failed, a throttle, or a consent
    or sign-in page), 75 DB in use by another run.
    """

    async def run(
        self,
        db: sqlite_utils.Database,
        settings: GeminiSettings,
        values: Mapping[str, Any],
        progress: Progress | None = None,
    ) -> BackupSummary:
        from archiver.backup.options import common_backup_arguments
        from archiver.providers.gemini.backup import backup_gemini

        return await backup_gemini(
            db, settings, progress=progress, **common_backup_arguments(values)
        )


class GeminiExport(ExportFormat):
    label = "a Google Takeout with Gemini Apps activity (My Activity)"

    def detect(self, files: ExportFiles) -> bool:
        from archiver.providers.gemini.export import activity_files

        return bool(activity_files(files))

    def run(
        self,
        db: sqlite_utils.Database,
        files: ExportFiles,
        options: ImportOptions,
        progress: Progress | None = None,
    ) -> Summary:
        from archiver.providers.gemini.export import import_takeout

        return import_takeout(db, files, options, progress)


class GeminiEmulator(Emulator):
    # Both RPCs share one path: the fake logs each chat read under a route name of its own.
    item_routes = frozenset({"batchexecute hNvQHb"})

    def default_config(self) -> Any:
        from archiver.providers.gemini.emulator import GeminiEmulatorConfig

        return GeminiEmulatorConfig()

    def add_routes(self, app: web.Application) -> None:
        from archiver.providers.gemini.emulator import add_routes

        add_routes(app)

    def environment(self, base_url: str) -> dict[str, str]:
        from archiver.providers.gemini.emulator import GeminiEmulatorConfig

        config = GeminiEmulatorConfig()
        cookie = f"__Secure-1PSID={config.psid}; __Secure-1PSIDTS={config.psidts}"
        return {COOKIE_ENV: cookie, BASE_URL_ENV: base_url}


class GeminiReflatten(Reflatten):
    version = FLATTENER_VERSION

    def rebuild(
        self, conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
    ) -> FlatConversation:
        from archiver.providers.gemini.flatten import chat_from_rows, flatten_chat

        return flatten_chat(
            chat_from_rows(conversation, messages),
            account=str(conversation.get("account") or ""),
            list_update_time=conversation.get("list_update_time"),
        )


class Gemini(Provider["GeminiSettings"]):
    name = "gemini"
    title = "Gemini"
    summary = "gemini.google.com: every chat, turn and draft, thoughts; Google Takeout import"
    secret = "cookie"
    secret_env = COOKIE_ENV

    backup = GeminiBackup()
    export = GeminiExport()
    emulator = GeminiEmulator()
    renderer = GeminiRenderer()
    reflatten = GeminiReflatten()

    def conversation_url(self, conversation_id: str) -> str | None:
        """``c_<id>`` lives at ``/app/<id>``; a chat only a Takeout named has no address."""
        if conversation_id.startswith("c_"):
            return f"https://gemini.google.com/app/{conversation_id.removeprefix('c_')}"
        return None

    def settings_from_env(self, values: Mapping[str, Any]) -> GeminiSettings:
        from archiver.providers.gemini.client import GeminiSettings

        return GeminiSettings.from_env(values.get("cookie_file"))

    def settings_for_job(self, job: JobValues) -> GeminiSettings:
        from archiver.providers.gemini.jobs import settings_for

        return settings_for(job)
