"""Bing chat, as the registry sees it (``archiver.providers.registry``)."""

from __future__ import annotations

from typing import Any

from archiver.providers.bing.client import BingSettings
from archiver.providers.bing.jobs import OPTIONS, host_options, run_backup, settings_for
from archiver.providers.registry import Provider

BATCH_OPTIONS = host_options("bing_base_url")


def batch_settings(job: Any) -> BingSettings:
    return settings_for(job, prefix="bing_")


PROVIDER = Provider(
    name="bing",
    secret="cookie",
    secret_env="BING_COOKIE",
    settings_from_env=BingSettings.from_env,
    settings_for_job=settings_for,
    backup_options=OPTIONS,
    backup_help="""Archive every saved Bing chat (the chat list and each chat's history) into DB.

    Reads the cookie from BING_COOKIE (a _U value or a whole Cookie header) or --cookie-file,
    and the hosts from BING_BASE_URL and SYDNEY_BASE_URL. Later runs fetch only chats whose
    update time changed. Exit codes: 0 ok, 1 failed, 2 usage/auth/config, 3 partial
    (some chats failed, or Bing throttled or asked for a CAPTCHA: what was archived is kept),
    75 DB in use by another run.
    """,
    run_backup=run_backup,
    sender="archiver.providers.bing.sender:BingProvider",
    default_batch_rpm=20.0,
    batch_options=BATCH_OPTIONS,
    batch_settings=batch_settings,
    model_help="tone: Creative, Balanced, Precise",
    doctor="archiver.account.doctor:check_bing",
    emulator_routes="archiver.emulator.chathub:add_routes",
)
