"""ChatGPT, as the registry sees it (``archiver.providers.registry``)."""

from __future__ import annotations

from archiver.options import Option, credential, http_url, text
from archiver.providers.chatgpt.client import DEFAULT_BASE_URL, ChatGPTSettings
from archiver.providers.chatgpt.jobs import OPTIONS, run_backup, settings_for
from archiver.providers.registry import Provider

BATCH_OPTIONS: dict[str, Option] = {
    "base_url": Option(http_url, DEFAULT_BASE_URL, "ChatGPT backend-api base URL", cli=False),
    "account_id": Option(text, None, "ChatGPT team workspace id", cli=False),
    **credential("token", "CHATGPT_ACCESS_TOKEN"),
}


PROVIDER = Provider(
    name="chatgpt",
    secret="token",
    secret_env="CHATGPT_ACCESS_TOKEN",
    settings_from_env=ChatGPTSettings.from_env,
    settings_for_job=settings_for,
    backup_options=OPTIONS,
    backup_help="""Archive every ChatGPT conversation, every branch, into DB.

    Reads the access token from CHATGPT_ACCESS_TOKEN (or --token-file), the base URL from
    CHATGPT_BASE_URL and an optional team workspace from CHATGPT_ACCOUNT_ID. Later runs fetch
    only what changed. One run per DB at a time; each run is recorded in the `runs` table. If
    a 429 left the account cooling down, waits up to --max-cooldown-wait seconds, else skips
    (exit 0). Exit codes: 0 ok, 1 failed, 2 usage/auth/config, 3 partial, 75 DB in use by
    another run.
    """,
    run_backup=run_backup,
    sender="archiver.providers.chatgpt.sender:ChatGPTProvider",
    default_batch_rpm=20.0,
    batch_options=BATCH_OPTIONS,
    batch_settings=settings_for,
    model_help="model slug",
    doctor="archiver.account.doctor:check_chatgpt",
    emulator_routes="archiver.emulator.chatgpt_2026:add_all_routes",
    state_for_sending="archiver.providers.chatgpt.browser:with_device_id",
)
