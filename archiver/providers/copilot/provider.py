"""Microsoft Copilot, as the registry sees it (``archiver.providers.registry``): the one module
the rest of archiver reaches Copilot through."""

from __future__ import annotations

from typing import Any

from archiver.providers.copilot.client import PROVIDER as NAME
from archiver.providers.copilot.client import TOKEN_ENV, CopilotSettings
from archiver.providers.copilot.jobs import BATCH_OPTIONS, OPTIONS, run_backup, settings_for
from archiver.providers.copilot.sender import DEFAULT_BATCH_RPM
from archiver.providers.registry import Provider


def batch_settings(job: Any) -> CopilotSettings:
    return settings_for(job, prefix="copilot_")


PROVIDER = Provider(
    name=NAME,
    secret="token",
    secret_env=TOKEN_ENV,
    settings_from_env=CopilotSettings.from_env,
    settings_for_job=settings_for,
    backup_options=OPTIONS,
    backup_help="""Archive every Microsoft Copilot conversation (the list and each one's history) into DB.

    Reads the token from COPILOT_ACCESS_TOKEN (or --token-file), the account type header from
    COPILOT_IDENTITY_TYPE and the host from COPILOT_BASE_URL. Later runs fetch only
    conversations whose updatedAt changed. Exit codes: 0 ok, 1 failed, 2 usage/auth/config
    (a refused token: they last about a day), 3 partial (some failed, or a Cloudflare check),
    75 DB in use by another run.
    """,
    run_backup=run_backup,
    sender="archiver.providers.copilot.sender:CopilotProvider",
    default_batch_rpm=DEFAULT_BATCH_RPM,
    batch_options=BATCH_OPTIONS,
    batch_settings=batch_settings,
    model_help="mode: chat, smart, reasoning",
    doctor="archiver.providers.copilot.doctor:check_copilot",
    emulator_routes="archiver.emulator.copilot:add_routes",
)
