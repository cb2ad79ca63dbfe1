"""Bing chat, as the rest of archiver sees it: the one class the registry names. Light to
import: each capability loads its modules when it is used."""

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
from archiver.providers.bing.options import (
    BACKUP_OPTIONS,
    COOKIE_ENV,
    DEFAULT_BATCH_RPM,
    SEND_OPTIONS,
    TONES,
)
from archiver.providers.bing.render import BingRenderer

if TYPE_CHECKING:
    import sqlite_utils
    from aiohttp import web

    from archiver.backup.engine import BackupSummary
    from archiver.batch.sender import BatchProvider, SenderSetup
    from archiver.doctor import DoctorReport, DoctorRun
    from archiver.flatten.records import FlatConversation
    from archiver.progress import Progress
    from archiver.providers.bing.client import BingSettings


class BingBackup(Backup["BingSettings"]):
    options = BACKUP_OPTIONS
    help = """Archive every saved Bing chat (the chat list and each chat's history) into DB.

    Reads the cookie from BING_COOKIE (a _U value or a whole Cookie header) or --cookie-file,
    and the hosts from BING_BASE_URL and SYDNEY_BASE_URL. Later runs fetch only chats whose
    update time changed. Exit codes: 0 ok, 1 failed, 2 usage/auth/config, 3 partial
    (some chats failed, or Bing throttled or asked for a CAPTCHA: what was archived is kept),
    75 DB in use by another run.
    """

    async def run(
        self,
        db: sqlite_utils.Database,
        settings: BingSettings,
        values: Mapping[str, Any],
        progress: Progress | None = None,
    ) -> BackupSummary:
        from archiver.backup.options import common_backup_arguments
        from archiver.providers.bing.backup import backup_bing

        return await backup_bing(db, settings, progress=progress, **common_backup_arguments(values))


class BingSending(Sending["BingSettings"]):
    options = SEND_OPTIONS
    default_rpm = DEFAULT_BATCH_RPM
    model_help = "tone: " + ", ".join(TONES)

    def settings_for_batch(self, job: JobValues) -> BingSettings:
        from archiver.providers.bing.jobs import settings_for

        return settings_for(job, prefix="bing_")

    def open(
        self, setup: SenderSetup, settings: BingSettings, values: Mapping[str, Any]
    ) -> BatchProvider:
        from archiver.providers.bing.sender import BingProvider

        return BingProvider(setup, settings)


class BingDoctor(Doctor["BingSettings"]):
    async def check(self, settings: BingSettings, run: DoctorRun) -> DoctorReport:
        from archiver.providers.bing.doctor import check_bing

        return await check_bing(settings, run)


class BingEmulator(Emulator):
    item_routes = frozenset({"/sydney/GetConversation"})

    def default_config(self) -> Any:
        from archiver.providers.bing.fake.config import BingFakeConfig

        return BingFakeConfig()

    def add_routes(self, app: web.Application) -> None:
        from archiver.providers.bing.fake.chathub import add_routes

        add_routes(app)

    def environment(self, base_url: str) -> dict[str, str]:
        from archiver.providers.bing.fake.config import BingFakeConfig

        return {
            COOKIE_ENV: BingFakeConfig().cookie,
            "BING_BASE_URL": base_url,
            "SYDNEY_BASE_URL": base_url,
        }


class BingReflatten(Reflatten):
    version = FLATTENER_VERSION

    def rebuild(
        self, conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
    ) -> FlatConversation:
        from archiver.providers.bing.flatten import flatten_bing_conversation

        def unpack(stored: dict[str, Any], raw: list[Any]) -> tuple[dict[str, Any], Any]:
            return stored.get("chat") or {}, {**(stored.get("conversation") or {}), "messages": raw}

        return flatten_bing_conversation.reflatten(conversation, messages, unpack)


class Bing(Provider["BingSettings"]):
    name = "bing"
    title = "Bing chat"
    summary = "Bing chat (Sydney): saved chats and their histories; sends prompts"
    secret = "cookie"
    secret_env = COOKIE_ENV

    backup = BingBackup()
    sending = BingSending()
    doctor = BingDoctor()
    emulator = BingEmulator()
    gateway = Gateway(variants=TONES, default_variant=TONES[0], route_family="seed000")
    renderer = BingRenderer()
    reflatten = BingReflatten()

    def settings_from_env(self, values: Mapping[str, Any]) -> BingSettings:
        from archiver.providers.bing.client import BingSettings

        return BingSettings.from_env(values.get("cookie_file"))

    def settings_for_job(self, job: JobValues) -> BingSettings:
        from archiver.providers.bing.jobs import settings_for

        return settings_for(job)
