"""Any OpenAI-compatible API, as the rest of archiver sees it: the one class the registry
names. Send-only (an API keeps no history to back up). Light to import: each capability loads
its modules when it is used."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from archiver.options import JobValues
from archiver.providers.base import Doctor, Emulator, Provider, Sending
from archiver.providers.openai.options import BASE_URL_ENV, KEY_ENV, PROVIDER, SEND_OPTIONS
from archiver.providers.openai.render import OpenAIRenderer

if TYPE_CHECKING:
    from aiohttp import web

    from archiver.batch.remote import RemoteBatches
    from archiver.batch.sender import BatchProvider, SenderSetup
    from archiver.doctor import DoctorReport, DoctorRun
    from archiver.providers.openai.client import OpenAISettings


class OpenAISending(Sending["OpenAISettings"]):
    options = SEND_OPTIONS
    default_rpm = None  # paced by the server's own rate-limit headers
    model_help = "the API's model name (gpt-4o-mini, llama3.2, ...)"
    takes_system = True

    def settings_for_batch(self, job: JobValues) -> OpenAISettings:
        from archiver.options import job_secret
        from archiver.providers.openai.client import OpenAISettings

        return OpenAISettings(
            key=job_secret(job, "key", "API key"), base_url=job.options["openai_base_url"]
        )

    def open(
        self, setup: SenderSetup, settings: OpenAISettings, values: Mapping[str, Any]
    ) -> BatchProvider:
        from archiver.providers.openai.chat import chat_options
        from archiver.providers.openai.sender import OpenAISender, pacer_for

        options = chat_options(values, settings.base_url)
        return OpenAISender(setup, settings, options, pacer_for(setup, values.get("max_tpm")))

    def open_batches(
        self, setup: SenderSetup, settings: OpenAISettings, values: Mapping[str, Any]
    ) -> RemoteBatches:
        from archiver.providers.openai.batches import OpenAIBatches
        from archiver.providers.openai.chat import chat_options
        from archiver.providers.openai.sender import pacer_for

        options = chat_options(values, settings.base_url)
        return OpenAIBatches(setup, settings, options, pacer_for(setup, None))


class OpenAIDoctor(Doctor["OpenAISettings"]):
    async def check(self, settings: OpenAISettings, run: DoctorRun) -> DoctorReport:
        from archiver.providers.openai.doctor import check_openai

        return await check_openai(settings, run)


class OpenAIEmulator(Emulator):
    def default_config(self) -> Any:
        from archiver.providers.openai.emulator import OpenAIEmulatorConfig

        return OpenAIEmulatorConfig()

    def add_routes(self, app: web.Application) -> None:
        from archiver.providers.openai.emulator import add_routes

        add_routes(app)

    def environment(self, base_url: str) -> dict[str, str]:
        from archiver.providers.openai.emulator_world import OpenAIEmulatorConfig

        return {KEY_ENV: OpenAIEmulatorConfig().key, BASE_URL_ENV: f"{base_url}/v1"}


class OpenAI(Provider["OpenAISettings"]):
    name = PROVIDER
    title = "OpenAI-compatible API"
    summary = (
        "any OpenAI-compatible API (OpenAI, Azure, OpenRouter, Ollama, vLLM, LM Studio): "
        "sends, plain or through the Batch API"
    )
    secret = "key"
    secret_env = KEY_ENV

    sending = OpenAISending()
    doctor = OpenAIDoctor()
    emulator = OpenAIEmulator()
    renderer = OpenAIRenderer()

    def settings_from_env(self, values: Mapping[str, Any]) -> OpenAISettings:
        from archiver.providers.openai.client import OpenAISettings

        return OpenAISettings.from_env(values.get("key_file"))

    def settings_for_job(self, job: JobValues) -> OpenAISettings:
        return OpenAISending().settings_for_batch(job)
