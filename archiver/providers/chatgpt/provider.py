"""ChatGPT, as the rest of archiver sees it: the one class the registry names
(``archiver.providers.registry``). Light to import: each capability loads its modules when
it is used."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    Sending,
)
from archiver.providers.chatgpt.options import (
    BACKUP_OPTIONS,
    DEFAULT_BATCH_RPM,
    FLATTENER_VERSION,
    ROOT_PARENT,
    SEND_OPTIONS,
    TOKEN_ENV,
)
from archiver.providers.chatgpt.render import ChatGPTRenderer

if TYPE_CHECKING:
    import sqlite_utils
    from aiohttp import web

    from archiver.backup.engine import BackupSummary
    from archiver.batch.sender import BatchProvider, SenderSetup
    from archiver.doctor import DoctorReport, DoctorRun
    from archiver.flatten.records import FlatConversation
    from archiver.importer.source import ExportFiles, ImportOptions
    from archiver.progress import Progress
    from archiver.providers.chatgpt.client import ChatGPTSettings
    from archiver.summary import Summary


class ChatGPTBackup(Backup["ChatGPTSettings"]):
    options = BACKUP_OPTIONS
    help = """Archive every ChatGPT conversation, every branch, into DB.

    Reads the access token from CHATGPT_ACCESS_TOKEN (or --token-file), the base URL from
    CHATGPT_BASE_URL and an optional team workspace from CHATGPT_ACCOUNT_ID. Later runs fetch
    only what changed. One run per DB at a time; each run is recorded in the `runs` table. If
    a 429 left the account cooling down, waits up to --max-cooldown-wait seconds, else skips
    (exit 0). Exit codes: 0 ok, 1 failed, 2 usage/auth/config, 3 partial, 75 DB in use by
    another run.
    """

    async def run(
        self,
        db: sqlite_utils.Database,
        settings: ChatGPTSettings,
        values: Mapping[str, Any],
        progress: Progress | None = None,
    ) -> BackupSummary:
        from archiver.providers.chatgpt.jobs import run_backup

        return await run_backup(db, settings, values, progress)


@dataclass(frozen=True)
class SendOptions:
    """How ChatGPT's sender posts a prompt (``SEND_OPTIONS``' values)."""

    conversation_path: str = "f/conversation"  # "conversation" when that 404s
    proof_form: str = "sha3"  # the sentinel's proof-of-work hash, "sha3" or "fnv"
    history_disabled: bool = False
    autocontinue: bool = False
    first_parent: str = ROOT_PARENT  # or "uuid": a new uuid as the first turn's parent

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> SendOptions:
        defaults = cls()
        return cls(
            **{
                name: values[name] if values.get(name) is not None else getattr(defaults, name)
                for name in cls.__dataclass_fields__
            }
        )


class ChatGPTSending(Sending["ChatGPTSettings"]):
    options = SEND_OPTIONS
    default_rpm = DEFAULT_BATCH_RPM
    model_help = "model slug"
    tree = True

    def settings_for_batch(self, job: JobValues) -> ChatGPTSettings:
        from archiver.providers.chatgpt.jobs import settings_for

        return settings_for(job)

    def with_state(self, db: sqlite_utils.Database, settings: ChatGPTSettings) -> ChatGPTSettings:
        from archiver.providers.chatgpt.browser import with_device_id

        with_id: ChatGPTSettings = with_device_id(db, settings)
        return with_id

    def open(
        self, setup: SenderSetup, settings: ChatGPTSettings, values: Mapping[str, Any]
    ) -> BatchProvider:
        from archiver.providers.chatgpt.sender import ChatGPTProvider

        return ChatGPTProvider(setup, settings, SendOptions.from_values(values))


class ChatGPTExport(ExportFormat):
    label = "a ChatGPT data export"

    def detect(self, files: ExportFiles) -> bool:
        from archiver.providers.chatgpt.export.detect import is_chatgpt_export

        return is_chatgpt_export(files)

    def run(
        self,
        db: sqlite_utils.Database,
        files: ExportFiles,
        options: ImportOptions,
        progress: Progress | None = None,
    ) -> Summary:
        from archiver.providers.chatgpt.export.run import import_export

        return import_export(
            db,
            files.path,
            extract_dir=options.extract_dir,
            limits=options.limits,
            progress=progress,
            jobs=options.jobs,
            store_files=options.store_files,
        )


class ChatGPTDoctor(Doctor["ChatGPTSettings"]):
    async def check(self, settings: ChatGPTSettings, run: DoctorRun) -> DoctorReport:
        from archiver.providers.chatgpt.doctor import check_chatgpt

        return await check_chatgpt(settings, run)


class ChatGPTEmulator(Emulator):
    item_routes = frozenset(
        {
            "/backend-api/conversation/{id}",
            "/backend-api/conversation/{id}/textdocs",
            "/backend-api/files/download/{file_id}",
            "/backend-api/files/{file_id}/download",
            "/backend-api/estuary/content",
        }
    )

    def default_config(self) -> Any:
        from archiver.providers.chatgpt.fake.config import ChatGPTFakeConfig

        return ChatGPTFakeConfig()

    def add_routes(self, app: web.Application) -> None:
        from archiver.providers.chatgpt.fake.routes_2026 import add_all_routes

        add_all_routes(app)

    def environment(self, base_url: str) -> dict[str, str]:
        from archiver.providers.chatgpt.fake.config import ChatGPTFakeConfig

        token = ChatGPTFakeConfig().token
        return {TOKEN_ENV: token, "CHATGPT_BASE_URL": f"{base_url}/backend-api"}


class ChatGPTReflatten(Reflatten):
    version = FLATTENER_VERSION

    def rebuild(
        self, conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
    ) -> FlatConversation:
        from archiver.providers.chatgpt.reflatten import reflatten_rows

        return reflatten_rows(conversation, messages)


class ChatGPT(Provider["ChatGPTSettings"]):
    name = "chatgpt"
    title = "ChatGPT"
    summary = "chatgpt.com: every conversation and branch, projects, files; sends prompts"
    secret = "token"
    secret_env = TOKEN_ENV
    conversation_web_url = "https://chatgpt.com/c/{id}"

    backup = ChatGPTBackup()
    sending = ChatGPTSending()
    export = ChatGPTExport()
    doctor = ChatGPTDoctor()
    emulator = ChatGPTEmulator()
    gateway = Gateway(
        takes_bare_models=True,
        bare_models_help="ChatGPT model slugs listed by /v1/models (repeat; default: auto).",
        route_family="seed004",
    )
    renderer = ChatGPTRenderer()
    reflatten = ChatGPTReflatten()

    def settings_from_env(self, values: Mapping[str, Any]) -> ChatGPTSettings:
        from archiver.providers.chatgpt.client import ChatGPTSettings

        return ChatGPTSettings.from_env(
            values.get("token_file"), session_file=values.get("session_file")
        )

    def settings_for_job(self, job: JobValues) -> ChatGPTSettings:
        from archiver.providers.chatgpt.jobs import settings_for

        return settings_for(job)
