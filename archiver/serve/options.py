"""The options of ``archiver serve``, declared once (archiver.options): the click flags come
from here, as every other command's do."""

from __future__ import annotations

from archiver.options import Option, integer, non_negative_number, path, positive_number, text

SERVE_OPTIONS: dict[str, Option] = {
    "host": Option(text, "127.0.0.1", "Address to bind."),
    "port": Option(integer(0, 65535), 8000, "Port to listen on (0: any free port)."),
    "max_rpm": Option(
        positive_number, 20.0, "Upstream requests per minute per account, every client together."
    ),
    "concurrency": Option(integer(1, 64), 2, "Answers in flight per account."),
    "max_queue": Option(
        integer(0, 10000),
        16,
        "Answers waiting per account; beyond it clients get 429 (the gateway's limit).",
    ),
    "key_rpm": Option(non_negative_number, 60.0, "Requests per minute per API key (0: no limit)."),
    "max_body": Option(integer(1024), 1024 * 1024, "Largest request body accepted, in bytes."),
    "cors_origin": Option(text, None, "Allow this one browser origin (no CORS otherwise)."),
    "conversation_path": Option(
        text,
        "f/conversation",
        "ChatGPT: the path prompts are posted to ('conversation' is used when it is missing).",
    ),
    "timeout": Option(positive_number, 300.0, "Seconds to wait for an answer."),
    "token_file": Option(
        path, None, "ChatGPT: read the access token from this 0600 file, not CHATGPT_ACCESS_TOKEN."
    ),
    "cookie_file": Option(
        path, None, "Bing: read the cookie from this 0600 file instead of BING_COOKIE."
    ),
    "copilot_token_file": Option(
        path, None, "Copilot: read the token from this 0600 file, not COPILOT_ACCESS_TOKEN."
    ),
}
