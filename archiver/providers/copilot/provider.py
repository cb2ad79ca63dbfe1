"""Microsoft Copilot, as the rest of archiver sees it: the one class the registry names.
Light to import: each capability loads its modules when it is used."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from archiver.flatten.records import FLATTENER_VERSION
from archiver.options import JobValues
from archiver.providers.base import (
    Backup,
    Doctor,
    Emulator,
    Gateway,
    Provider,
    Reflatten,
    Sending,
)
from archiver.providers.copilot.options import (
    BACKUP_OPTIONS,
    BASE_URL_ENV,
    DEFAULT_BATCH_RPM,
    MODES,
    SEND_OPTIONS,
    TOKEN_ENV,
)
from archiver.providers.copilot.render import CopilotRenderer

if TYPE_CHECKING:
    import sqlite_utils
    from aiohttp import web

    from archiver.backup.engine import BackupSummary
    from archiver.batch.sender import BatchProvider, SenderSetup
    from archiver.doctor import DoctorReport, DoctorRun
    from archiver.flatten.records import FlatConversation
    from archiver.progress import Progress
    from archiver.providers.copilot.client import CopilotSettings


class CopilotBackup(Backup["CopilotSettings"]):
    options = BACKUP_OPTIONS
    help = """Archive every Microsoft Copilot conversation (the list and each one's history) into DB.

    Reads the token from COPILOT_ACCESS_TOKEN (or --token-file), the account type header from
    COPILOT_IDENTITY_TYPE and the host from COPILOT_BASE_URL. Later runs fetch only
    conversations whose updatedAt changed. Exit codes: 0 ok, 1 failed, 2 usage/auth/config
    (a refused token: they last about a day), 3 partial (some failed, or a Cloudflare check),
    75 DB in use by another run.
    """

    async def run(
        self,
        db: sqlite_utils.Database,
        settings: CopilotSettings,
        values: Mapping[str, Any],
        progress: Progress | None = None,
    ) -> BackupSummary:
        from archiver.backup.options import common_backup_arguments
        from archiver.providers.copilot.backup import backup_copilot
        from archiver.providers.copilot.jobs import file_values

        return await backup_copilot(
            db,
            settings,
            progress=progress,
            **common_backup_arguments(values),
            **file_values(values),
        )


class CopilotSending(Sending["CopilotSettings"]):
    options = SEND_OPTIONS
    default_rpm = DEFAULT_BATCH_RPM
    model_help = "mode: " + ", ".join(MODES)

    def settings_for_batch(self, job: JobValues) -> CopilotSettings:
        from archiver.providers.copilot.jobs import settings_for

        return settings_for(job, prefix="copilot_")

    def open(
        self, setup: SenderSetup, settings: CopilotSettings, values: Mapping[str, Any]
    ) -> BatchProvider:
        from archiver.providers.copilot.sender import CopilotProvider

        return CopilotProvider(setup, settings)


class CopilotDoctor(Doctor["CopilotSettings"]):
    async def check(self, settings: CopilotSettings, run: DoctorRun) -> DoctorReport:
        from archiver.providers.copilot.doctor import check_copilot

        return await check_copilot(settings, run)


class CopilotEmulator(Emulator):
    item_routes = frozenset(
        {"/c/api/conversations/{id}/history", "/_emulator/copilot/images/{name}"}
    )

    def default_config(self) -> Any:
        from archiver.providers.copilot.fake.config import CopilotFakeConfig

        return CopilotFakeConfig()

    def add_routes(self, app: web.Application) -> None:
        from archiver.providers.copilot.fake.routes import add_routes

        add_routes(app)

    def environment(self, base_url: str) -> dict[str, str]:
        from archiver.providers.copilot.fake.config import CopilotFakeConfig

        return {TOKEN_ENV: CopilotFakeConfig().token, BASE_URL_ENV: base_url}


class CopilotReflatten(Reflatten):
    version = FLATTENER_VERSION

    def rebuild(
        self, conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
    ) -> FlatConversation:
        from archiver.providers.copilot.flatten import flatten_copilot_conversation

        def unpack(stored: dict[str, Any], raw: list[Any]) -> tuple[dict[str, Any], Any]:
            return stored.get("conversation") or {}, {
                **(stored.get("history") or {}),
                "messages": raw,
            }

        return flatten_copilot_conversation.reflatten(conversation, messages, unpack)


class Copilot(Provider["CopilotSettings"]):
    name = "copilot"
    title = "Microsoft Copilot"
    summary = "copilot.microsoft.com (Bing chat's successor): chats and their images; sends prompts"
    secret = "token"
    secret_env = TOKEN_ENV
    conversation_web_url = "https://copilot.microsoft.com/chats/{id}"

    backup = CopilotBackup()
    sending = CopilotSending()
    doctor = CopilotDoctor()
    emulator = CopilotEmulator()
    gateway = Gateway(variants=MODES, default_variant="", route_family="seed000")
    renderer = CopilotRenderer()
    reflatten = CopilotReflatten()

    def settings_from_env(self, values: Mapping[str, Any]) -> CopilotSettings:
        from archiver.providers.copilot.client import CopilotSettings

        return CopilotSettings.from_env(
            values.get("copilot_token_file") or values.get("token_file")
        )

    def settings_for_job(self, job: JobValues) -> CopilotSettings:
        from archiver.providers.copilot.jobs import settings_for

        return settings_for(job)
