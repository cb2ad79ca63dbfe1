"""Claude (claude.ai), as the rest of archiver sees it: the one class the registry names.
Light to import: each capability loads its modules when it is used."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from archiver.options import JobValues
from archiver.providers.base import (
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
    BASE_URL_ENV,
    DEFAULT_BATCH_RPM,
    DEFAULT_VARIANT,
    FLATTENER_VERSION,
    SEND_OPTIONS,
    SESSION_ENV,
)

if TYPE_CHECKING:
    import sqlite_utils
    from aiohttp import web

    from archiver.backup.engine import BackupSummary
    from archiver.batch.sender import BatchProvider, SenderSetup
    from archiver.doctor import DoctorReport, DoctorRun
    from archiver.flatten.records import FlatConversation
    from archiver.importer.source import ExportFiles, ImportOptions
    from archiver.progress import Progress
    from archiver.providers.claude.client import ClaudeSettings
    from archiver.query.blocks import Block
    from archiver.summary import Summary


class ClaudeBackup(Backup["ClaudeSettings"]):
    options = BACKUP_OPTIONS
    help = """Archive every claude.ai conversation, every branch, into DB: every organization
    with chats, archived and starred chats and those in Projects, the projects and their
    documents, artifacts, pasted text, uploaded files and images.

    Reads the session from CLAUDE_SESSION_KEY (the sessionKey cookie's value, or a whole
    Cookie header copied from a signed-in browser) or --session-file, the host from
    CLAUDE_BASE_URL and the browser's User-Agent from CLAUDE_USER_AGENT. Later runs fetch only
    conversations whose updated_at changed. Exit codes: 0 ok, 1 failed, 2 usage/auth/config (a
    refused session key: copy a fresh one), 3 partial (some failed, a Cloudflare check, a
    throttle longer than --max-wait), 75 DB in use by another run.
    """

    async def run(
        self,
        db: sqlite_utils.Database,
        settings: ClaudeSettings,
        values: Mapping[str, Any],
        progress: Progress | None = None,
    ) -> BackupSummary:
        from archiver.backup.options import common_backup_arguments
        from archiver.providers.claude.backup import backup_claude
        from archiver.providers.claude.jobs import file_values

        return await backup_claude(
            db,
            settings,
            progress=progress,
            **common_backup_arguments(values),
            **file_values(values),
        )


class ClaudeSending(Sending["ClaudeSettings"]):
    options = SEND_OPTIONS
    default_rpm = DEFAULT_BATCH_RPM
    model_help = f"claude.ai model (e.g. claude-sonnet-4-5; '{DEFAULT_VARIANT}': the account's)"
    tree = True

    def settings_for_batch(self, job: JobValues) -> ClaudeSettings:
        from archiver.providers.claude.jobs import settings_for

        return settings_for(job, prefix="claude_")

    def open(
        self, setup: SenderSetup, settings: ClaudeSettings, values: Mapping[str, Any]
    ) -> BatchProvider:
        from archiver.providers.claude.sender import ClaudeProvider

        return ClaudeProvider(setup, settings)


class ClaudeExport(ExportFormat):
    label = "a Claude data export"

    def detect(self, files: ExportFiles) -> bool:
        from archiver.providers.claude.export import is_claude_export

        return is_claude_export(files)

    def run(
        self,
        db: sqlite_utils.Database,
        files: ExportFiles,
        options: ImportOptions,
        progress: Progress | None = None,
    ) -> Summary:
        from archiver.providers.claude.export import import_claude_export

        return import_claude_export(db, files, options, progress)


class ClaudeDoctor(Doctor["ClaudeSettings"]):
    async def check(self, settings: ClaudeSettings, run: DoctorRun) -> DoctorReport:
        from archiver.providers.claude.doctor import check_claude

        return await check_claude(settings, run)


class ClaudeEmulator(Emulator):
    # One conversation, a project's documents, one file: what a no-change backup never asks.
    item_routes = frozenset(
        {
            "/api/organizations/{org}/chat_conversations/{uuid}",
            "/api/organizations/{org}/projects/{project}/docs",
            "/api/{org}/files/{file}/{variant}",
        }
    )

    def default_config(self) -> Any:
        from archiver.providers.claude.emulator import ClaudeEmulatorConfig

        return ClaudeEmulatorConfig()

    def add_routes(self, app: web.Application) -> None:
        from archiver.providers.claude.emulator import add_routes

        add_routes(app)

    def environment(self, base_url: str) -> dict[str, str]:
        from archiver.providers.claude.emulator import ClaudeEmulatorConfig

        return {SESSION_ENV: ClaudeEmulatorConfig().session_key, BASE_URL_ENV: base_url}


class ClaudeRenderer(Renderer):
    def blocks(
        self, message: Mapping[str, Any], row: Mapping[str, Any], links: Mapping[str, str]
    ) -> list[Block]:
        from archiver.providers.claude.render import claude_blocks

        return claude_blocks(message, row, links)


class ClaudeReflatten(Reflatten):
    version = FLATTENER_VERSION

    def rebuild(
        self, conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
    ) -> FlatConversation:
        from archiver.providers.claude.reflatten import reflatten_rows

        return reflatten_rows(conversation, messages)


class Claude(Provider["ClaudeSettings"]):
    name = "claude"
    title = "Claude"
    summary = "claude.ai: every conversation and branch, projects, artifacts, files; sends prompts"
    secret = "session"
    secret_env = SESSION_ENV
    conversation_web_url = "https://claude.ai/chat/{id}"

    backup = ClaudeBackup()
    sending = ClaudeSending()
    export = ClaudeExport()
    doctor = ClaudeDoctor()
    emulator = ClaudeEmulator()
    gateway = Gateway(variants=(DEFAULT_VARIANT,), default_variant=DEFAULT_VARIANT)
    renderer = ClaudeRenderer()
    reflatten = ClaudeReflatten()

    def settings_from_env(self, values: Mapping[str, Any]) -> ClaudeSettings:
        from archiver.providers.claude.client import ClaudeSettings

        return ClaudeSettings.from_env(
            values.get("claude_session_file") or values.get("session_file")
        )

    def settings_for_job(self, job: JobValues) -> ClaudeSettings:
        from archiver.providers.claude.jobs import settings_for

        return settings_for(job)
