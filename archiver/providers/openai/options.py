"""The OpenAI-compatible API's options, declared once: its keys of ``archiver batch`` (and of
the ``batch`` job kind), beside every other provider's. Light: no HTTP client."""

from __future__ import annotations

from archiver.config import Credential
from archiver.options import Option, credential, http_url, integer, number, path, positive_number

PROVIDER = "openai"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
KEY_ENV = "OPENAI_API_KEY"
KEY = Credential(KEY_ENV, "API key", stem="key")
BASE_URL_ENV = "OPENAI_BASE_URL"


SEND_OPTIONS: dict[str, Option] = {
    "openai_base_url": Option(
        http_url, DEFAULT_BASE_URL, "OpenAI-compatible base URL, ending in /v1", cli=False
    ),
    **credential(KEY.stem, KEY_ENV),
    "temperature": Option(number(0, 2), None, "openai: sampling temperature, 0 to 2."),
    "max_tokens": Option(
        integer(1),
        None,
        "openai: the most tokens an answer may use (reasoning included); also counted "
        "against --max-tpm.",
    ),
    "json_schema": Option(
        path,
        None,
        "openai: a JSON Schema file: every answer is structured output, checked against it "
        "and stored as JSON.",
    ),
    "max_tpm": Option(
        positive_number,
        None,
        "openai: tokens per minute at most (each prompt's estimate plus --max-tokens) "
        "[default: the server's own limit, from its headers].",
    ),
}
