"""The options of ``archiver serve`` that are the gateway's own, declared once
(archiver.options): the click flags come from here, and each sending provider's keys (its
credential files, its send options) are added beside them from the registry."""

from __future__ import annotations

from archiver.options import Option, integer, non_negative_number, positive_number, text

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
    "body_timeout": Option(
        positive_number, 30.0, "Seconds a request body may take to arrive (then 408)."
    ),
    "cors_origin": Option(
        text,
        None,
        "Allow this one browser origin on the API (never the viewer; no CORS otherwise).",
    ),
    "timeout": Option(positive_number, 300.0, "Seconds to wait for an answer."),
}
