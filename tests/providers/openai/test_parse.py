"""Sans-I/O reading of the API (parse.py), on the shapes PROTOCOL.md §8 documents."""

from __future__ import annotations

import json

import pytest

from archiver.batch.remote import FINISHED, REFUSED, WAITING
from archiver.errors import (
    AuthError,
    BadRequestError,
    NotFoundError,
    QuotaExhausted,
    RateLimitExceeded,
    TransientError,
    UpstreamError,
    WrongEndpointError,
)
from archiver.providers.openai.parse import (
    batch_status,
    check_answer,
    line_outcome,
    parse_completion,
    parse_duration,
    rate_limits,
    redact,
    result_lines,
    retry_after_seconds,
)

WHERE = {"method": "POST", "url": "https://api.openai.com/v1/chat/completions?x=1"}


def body(message: str, kind: str, code: object, param: object = None) -> bytes:
    return json.dumps(
        {"error": {"message": message, "type": kind, "param": param, "code": code}}
    ).encode()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("12ms", 0.012),
        ("1s", 1.0),
        ("17.5s", 17.5),
        ("6m0s", 360.0),
        ("1h2m3s", 3723.0),
        ("200us", 0.0002),
        ("2", 2.0),
        ("", None),
        ("soon", None),
        ("1s2", None),
    ],
)
def test_go_durations(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == (pytest.approx(seconds) if seconds is not None else None)


def test_rate_limit_headers_and_azures_minus_one() -> None:
    limits = rate_limits(
        {
            "X-RateLimit-Limit-Requests": "60",
            "x-ratelimit-limit-tokens": "150000",
            "x-ratelimit-remaining-requests": "59",
            "x-ratelimit-remaining-tokens": "149984",
            "x-ratelimit-reset-requests": "1s",
            "x-ratelimit-reset-tokens": "6m0s",
        }
    )
    assert (limits.limit_requests, limits.limit_tokens) == (60, 150000)
    assert (limits.remaining_requests, limits.remaining_tokens) == (59, 149984)
    assert (limits.reset_requests, limits.reset_tokens) == (1.0, 360.0)
    azure = rate_limits({"x-ratelimit-limit-tokens": "-1", "x-ratelimit-remaining-tokens": "-1"})
    assert azure.limit_tokens is None and azure.remaining_tokens is None


def test_how_long_a_429_asks_to_wait() -> None:
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "1"}) == 0.25
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    message = "Limit 3, Used 3, Requested 1. Please try again in 20s. Visit ..."
    assert retry_after_seconds({}, message) == 20.0
    assert retry_after_seconds({}, "Please try again in 120ms.") == pytest.approx(0.12)
    used_up = {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1.5s"}
    assert retry_after_seconds(used_up) == 1.5
    assert retry_after_seconds({}) is None


def test_a_refused_key_never_shows_its_masked_echo() -> None:
    echoed = body(
        "Incorrect API key provided: sk-ab****wxyz. You can find your API key at ...",
        "invalid_request_error",
        "invalid_api_key",
    )
    with pytest.raises(AuthError) as caught:
        check_answer(401, {}, echoed, **WHERE)
    assert "invalid_api_key" in str(caught.value) and "sk-ab" not in str(caught.value)
    assert "x=1" not in str(caught.value)  # the query string neither


def test_the_error_table() -> None:
    too_long = body(
        "This model's maximum context length is 8192 tokens. However, ...",
        "invalid_request_error",
        "context_length_exceeded",
        "messages",
    )
    with pytest.raises(BadRequestError, match="400 context_length_exceeded: This model"):
        check_answer(400, {}, too_long, **WHERE)
    quota = body("You exceeded your current quota", "insufficient_quota", "insufficient_quota")
    with pytest.raises(QuotaExhausted, match="billing, not a rate limit"):
        check_answer(429, {}, quota, **WHERE)
    limited = body(
        "Rate limit reached ... Please try again in 2s.", "requests", "rate_limit_exceeded"
    )
    with pytest.raises(RateLimitExceeded) as caught:
        check_answer(429, {}, limited, **WHERE)
    assert caught.value.retry_after == 2.0
    missing = body("The model `x` does not exist", "invalid_request_error", "model_not_found")
    with pytest.raises(NotFoundError, match="model_not_found"):
        check_answer(404, {}, missing, **WHERE)
    for status in (500, 503, 408, 409):
        with pytest.raises(TransientError):
            check_answer(status, {}, body("overloaded", "server_error", None), **WHERE)
    cdn = b"<html><body>502 Bad Gateway</body></html>"
    with pytest.raises(TransientError):
        check_answer(502, {"Content-Type": "text/html"}, cdn, **WHERE)
    with pytest.raises(UpstreamError) as final:
        check_answer(500, {"x-should-retry": "false"}, b"{}", **WHERE)
    assert not isinstance(final.value, TransientError)
    with pytest.raises(TransientError):
        check_answer(400, {"x-should-retry": "true"}, b"{}", **WHERE)
    # OpenRouter's numeric codes.
    with pytest.raises(BadRequestError, match="400 400: bad"):
        check_answer(
            400, {}, json.dumps({"error": {"message": "bad", "code": 400}}).encode(), **WHERE
        )


def test_a_404_that_is_not_the_api_is_a_wrong_base_url() -> None:
    with pytest.raises(WrongEndpointError, match="wrong base URL"):
        check_answer(404, {}, b"404 page not found", **WHERE)


def test_redact_cuts_keys_out_of_any_message() -> None:
    secret = "sk-proj-abcdefghijklmnop"
    text = f"key {secret} echoed as sk-pr****mnop and an azure 0123456789abcdef0123456789abcdef"
    cleaned = redact(text, secret)
    assert "abcdefghijklmnop" not in cleaned and "sk-pr" not in cleaned
    assert "0123456789abcdef0123456789abcdef" not in cleaned


def test_a_completion_and_its_usage() -> None:
    completion = parse_completion(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1767225600,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "", "refusal": None},
                    "finish_reason": "length",
                }
            ],
            "usage": {
                "prompt_tokens": 12,
                "completion_tokens": 400,
                "total_tokens": 412,
                "completion_tokens_details": {"reasoning_tokens": 400},
            },
        }
    )
    assert (completion.content, completion.finish_reason) == ("", "length")
    assert (completion.prompt_tokens, completion.completion_tokens) == (12, 400)
    assert completion.model == "gpt-4o-mini-2024-07-18"
    with pytest.raises(ValueError, match="no choices"):
        parse_completion({"choices": []})


def test_batch_statuses() -> None:
    def status(word: str, **extra: object) -> object:
        return batch_status({"id": "batch_1", "status": word, **extra})

    assert [status(w).state for w in ("validating", "in_progress", "finalizing", "cancelling")] == [  # type: ignore[attr-defined]
        WAITING
    ] * 4
    assert [status(w).state for w in ("completed", "expired", "cancelled")] == [FINISHED] * 3  # type: ignore[attr-defined]
    refused = status(
        "failed",
        errors={"object": "list", "data": [{"code": "x", "message": "bad model", "line": 3}]},
    )
    assert refused.state == REFUSED and refused.errors == ("line 3: bad model",)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="unknown status"):
        status("sleeping")


def test_result_lines_in_both_files() -> None:
    data = b"\n".join(
        [
            json.dumps(
                {
                    "custom_id": "a",
                    "response": {"status_code": 200, "body": {"choices": []}},
                    "error": None,
                }
            ).encode(),
            b"",
            b"not json",
            json.dumps(
                {
                    "custom_id": "b",
                    "response": {
                        "status_code": 400,
                        "body": {
                            "error": {"message": "too long", "code": "context_length_exceeded"}
                        },
                    },
                    "error": None,
                }
            ).encode(),
            json.dumps(
                {
                    "custom_id": "c",
                    "response": None,
                    "error": {"code": "batch_expired", "message": "x"},
                }
            ).encode(),
            json.dumps(
                {
                    "custom_id": "d",
                    "response": None,
                    "error": {"code": "server_error", "message": "boom"},
                }
            ).encode(),
        ]
    )
    outcomes = {o.custom_id: o for o in map(line_outcome, result_lines(data))}
    assert outcomes["a"].completion == {"choices": []}
    assert outcomes["b"].error == "400 context_length_exceeded: too long"
    assert outcomes["c"].not_run
    assert outcomes["d"].error == "server_error: boom"
