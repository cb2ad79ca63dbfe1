"""Any OpenAI-compatible API (send-only), as the registry names it: what it can do."""

from __future__ import annotations

from archiver.providers import base
from archiver.providers.openai import options


class OpenAI(base.Provider):
    """any OpenAI-compatible API (OpenAI, Azure, OpenRouter, Ollama, vLLM, LM Studio): sends,
    plain or through the Batch API"""

    title = "OpenAI-compatible API"

    account = base.Account(secret="key", secret_env=options.KEY_ENV)
    sending = base.Sending(
        options=options.SEND_OPTIONS,
        default_rpm=None,  # paced by the server's own rate-limit headers
        model_help="the API's model name (gpt-4o-mini, llama3.2, ...)",
        takes_system=True,
    )
    doctor = base.Doctor()
    emulator = base.Emulator()
