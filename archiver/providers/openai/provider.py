"""Any OpenAI-compatible API, as the rest of archiver sees it: the one class the registry
names. Send-only (an API keeps no history to back up). Declarations only: each capability's
work is in the module of this package that ``archiver/providers/modules.py`` names, imported
when it is used."""

from __future__ import annotations

from archiver.providers.base import Account, Doctor, Emulator, Provider, Renderer, Sending
from archiver.providers.openai.options import KEY_ENV, PROVIDER, SEND_OPTIONS


class OpenAI(Provider):
    name = PROVIDER
    title = "OpenAI-compatible API"
    summary = (
        "any OpenAI-compatible API (OpenAI, Azure, OpenRouter, Ollama, vLLM, LM Studio): "
        "sends, plain or through the Batch API"
    )

    account = Account(secret="key", secret_env=KEY_ENV)
    sending = Sending(
        options=SEND_OPTIONS,
        default_rpm=None,  # paced by the server's own rate-limit headers
        model_help="the API's model name (gpt-4o-mini, llama3.2, ...)",
        takes_system=True,
    )
    doctor = Doctor()
    emulator = Emulator()
    renderer = Renderer()
