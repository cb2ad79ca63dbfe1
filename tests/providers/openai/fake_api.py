"""An independent fake of an OpenAI-compatible API, written from PROTOCOL.md §8 (not from the
provider's code, which it never imports): chat completions with a per-key rate limit enforced
over short windows and stated in ``x-ratelimit-*`` headers, 429s with ``retry-after-ms``,
the error bodies of the error table, ``POST /files`` (multipart, parsed by werkzeug), and
batches that move one status per poll, with result files whose lines come back reversed.

Tests script it: ``answers`` maps a prompt to its exact answer and usage, switches turn on the
error paths, and ``log`` keeps every request for counting (double sends, uploads, batches)."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass
class Scripted:
    """The exact answer to a prompt: its text, usage and finish reason."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"


def error(message: str, kind: str, code: Any, param: Any = None, status: int = 400) -> Response:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return Response(json.dumps(body), status=status, content_type="application/json")


def ok(body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=200, content_type="application/json", headers=headers)


@dataclass
class FakeApi:
    rpm: int = 0  # 0: no limit, no headers
    window: float = 0.5  # the per-minute limit is enforced over windows this short
    max_context_chars: int = 20_000  # longer messages: 400 context_length_exceeded
    insufficient_quota: bool = False
    fail_next: int = 0  # the next N completions answer 500
    files_api: bool = True
    batch_statuses: tuple[str, ...] = ("validating", "in_progress", "finalizing", "completed")
    expire_after: int | None = None  # a batch that runs only this many requests, then expires
    ends_as: str = "expired"  # or "cancelled": how a batch cut short by expire_after ends
    fail_validation: bool = False
    output_errors: set[str] = field(default_factory=set)  # custom_ids put as 400 in the output file
    create_fails_after_creating: int = 0  # POST /batches: create, then answer 502 (N times)
    poll_errors: int = 0  # the next N GET /batches/{id}: 503
    revoke_after: int | None = None  # the key is refused once this many answers were given
    answers: dict[str, Scripted] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _level: float = -1.0
    _updated: float = 0.0

    def install(self, server: HTTPServer) -> str:
        server.expect_request(re.compile(r"/v1/.*")).respond_with_handler(self.handle)
        return server.url_for("/v1")

    # --- bookkeeping ---------------------------------------------------------------------

    def requests(self, method: str, path: str) -> list[dict[str, Any]]:
        return [e for e in self.log if e["method"] == method and e["path"] == path]

    def answered(self) -> list[str]:
        """The last prompt of every completion answered 200 (sync and batch alike)."""
        return [e["prompt"] for e in self.log if e.get("answered")]

    def count(self, status: int) -> int:
        return sum(1 for e in self.log if e["status"] == status)

    # --- routing -------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        with self.lock:
            entry: dict[str, Any] = {"method": request.method, "path": request.path}
            self.log.append(entry)
            response = self._route(request, entry)
            entry["status"] = response.status_code
            return response

    def _route(self, request: Request, entry: dict[str, Any]) -> Response:
        revoked = self.revoke_after is not None and len(self.answered()) >= self.revoke_after
        if revoked or request.headers.get("Authorization") != f"Bearer {KEY}":
            given = request.headers.get("Authorization", "").removeprefix("Bearer ")
            masked = f"{given[:5]}****{given[-4:]}"
            return error(
                f"Incorrect API key provided: {masked}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
                status=401,
            )
        path, method = request.path, request.method
        if path == "/v1/chat/completions" and method == "POST":
            return self._chat(request, entry)
        if not self.files_api:
            return Response("404 page not found", status=404, content_type="text/plain")
        if path == "/v1/files" and method == "POST":
            return self._upload(request)
        if (m := re.fullmatch(r"/v1/files/([^/]+)/content", path)) and method == "GET":
            return Response(self.files[m[1]], content_type="application/octet-stream")
        if path == "/v1/batches" and method == "POST":
            return self._create(request)
        if path == "/v1/batches" and method == "GET":
            newest = sorted(self.batches.values(), key=lambda b: b["created_at"], reverse=True)
            return ok({"object": "list", "data": newest, "has_more": False})
        if (m := re.fullmatch(r"/v1/batches/([^/]+)", path)) and method == "GET":
            if self.poll_errors:
                self.poll_errors -= 1
                return error("The server had an error", "server_error", None, status=503)
            return ok(self._advance(self.batches[m[1]]))
        return error("Unknown request URL", "invalid_request_error", "unknown_url", status=404)

    # --- chat completions ----------------------------------------------------------------

    def _bucket(self) -> tuple[float, float]:
        """(tokens left in this window's share, seconds until one is back)."""
        capacity = max(1.0, self.rpm * self.window / 60.0)
        now = time.monotonic()
        if self._level < 0:
            self._level, self._updated = capacity, now
        self._level = min(capacity, self._level + (now - self._updated) * self.rpm / 60.0)
        self._updated = now
        return self._level, max(0.0, (1.0 - self._level) * 60.0 / self.rpm)

    def _limit_headers(self) -> dict[str, str]:
        if not self.rpm:
            return {}
        level, _ = self._bucket()
        return {
            "x-ratelimit-limit-requests": str(self.rpm),
            "x-ratelimit-remaining-requests": str(max(0, int(self.rpm - 1 + level))),
            "x-ratelimit-reset-requests": "1s",
            "x-ratelimit-limit-tokens": "2000000",
            "x-ratelimit-remaining-tokens": "1999000",
            "x-ratelimit-reset-tokens": "6m0s",
        }

    def _chat(self, request: Request, entry: dict[str, Any]) -> Response:
        body = json.loads(request.get_data())
        entry["body"] = body
        entry["prompt"] = body["messages"][-1]["content"]
        if self.insufficient_quota:
            return error(
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                "insufficient_quota",
                status=429,
            )
        if self.rpm:
            level, wait = self._bucket()
            if level < 1.0:
                headers = self._limit_headers()
                headers["retry-after-ms"] = str(int(wait * 1000) + 1)
                response = error(
                    f"Rate limit reached for {body['model']} in organization org-x on requests "
                    f"per min (RPM): Limit {self.rpm}, Used {self.rpm}, Requested 1. Please try "
                    f"again in {wait:.3f}s.",
                    "requests",
                    "rate_limit_exceeded",
                    status=429,
                )
                response.headers.update(headers)
                return response
            self._level -= 1.0
        if self.fail_next:
            self.fail_next -= 1
            return error(
                "The server had an error while processing your request.",
                "server_error",
                None,
                status=500,
            )
        status, answer = self.complete(body)
        entry["answered"] = status == 200
        if status != 200:
            return Response(json.dumps(answer), status=status, content_type="application/json")
        return ok(answer, self._limit_headers())

    def complete(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chars = sum(len(m["content"]) for m in body["messages"])
        if chars > self.max_context_chars:
            return 400, {
                "error": {
                    "message": "This model's maximum context length is 8192 tokens. However, "
                    f"your messages resulted in {chars // 2} tokens. Please reduce the length "
                    "of the messages.",
                    "type": "invalid_request_error",
                    "param": "messages",
                    "code": "context_length_exceeded",
                }
            }
        prompt = body["messages"][-1]["content"]
        scripted = self.answers.get(prompt) or Scripted(f"echo: {prompt}", 7, 3)
        return 200, {
            "id": f"chatcmpl-{len(self.log)}",
            "object": "chat.completion",
            "created": 1767225600,
            "model": body["model"] + "-2024-07-18",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": scripted.text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": scripted.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": scripted.prompt_tokens,
                "completion_tokens": scripted.completion_tokens,
                "total_tokens": scripted.prompt_tokens + scripted.completion_tokens,
            },
        }

    # --- files and batches ---------------------------------------------------------------

    def _upload(self, request: Request) -> Response:
        if request.form.get("purpose") != "batch" or "file" not in request.files:
            return error("purpose and file are required", "invalid_request_error", None)
        upload = request.files["file"]
        if not (upload.filename or "").endswith(".jsonl"):
            return error(
                "Invalid file format for Batch API. Must be .jsonl", "invalid_request_error", None
            )
        ident = f"file-{len(self.files) + 1}"
        self.files[ident] = upload.read()
        return ok(
            {
                "id": ident,
                "object": "file",
                "bytes": len(self.files[ident]),
                "purpose": "batch",
                "filename": upload.filename,
                "status": "processed",
            }
        )

    def _create(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        assert body["endpoint"] == "/v1/chat/completions" and body["completion_window"] == "24h"
        ident = f"batch_{len(self.batches) + 1}"
        self.batches[ident] = {
            "id": ident,
            "object": "batch",
            "endpoint": body["endpoint"],
            "input_file_id": body["input_file_id"],
            "completion_window": "24h",
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "errors": None,
            "created_at": 1767225600 + len(self.batches),
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": body.get("metadata"),
            "_step": 0,
        }
        if self.create_fails_after_creating:
            self.create_fails_after_creating -= 1
            return Response("<html>502 Bad Gateway</html>", status=502, content_type="text/html")
        return ok(self._public(self.batches[ident]))

    @staticmethod
    def _public(batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in batch.items() if not k.startswith("_")}

    def _advance(self, batch: dict[str, Any]) -> dict[str, Any]:
        """One status further per poll; the results are written when it completes."""
        if batch["status"] in ("completed", "failed", "expired", "cancelled"):
            return self._public(batch)
        batch["_step"] += 1
        step = min(batch["_step"], len(self.batch_statuses) - 1)
        status = self.batch_statuses[step]
        lines = [
            json.loads(line)
            for line in self.files[batch["input_file_id"]].splitlines()
            if line.strip()
        ]
        if status == "in_progress" and self.fail_validation:
            batch["status"] = "failed"
            batch["errors"] = {
                "object": "list",
                "data": [
                    {
                        "code": "invalid_model",
                        "message": "The model 'nope' does not exist",
                        "param": "body.model",
                        "line": 1,
                    }
                ],
            }
            return self._public(batch)
        batch["request_counts"]["total"] = len(lines)
        if status == "completed":
            self._finish(batch, lines)
        else:
            batch["status"] = status
        return self._public(batch)

    def _finish(self, batch: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        outputs, errors = [], []
        for index, line in enumerate(lines):
            cid = line["custom_id"]
            if self.expire_after is not None and index >= self.expire_after:
                errors.append(
                    {
                        "id": f"batch_req_{index}",
                        "custom_id": cid,
                        "response": None,
                        "error": {
                            "code": f"batch_{self.ends_as}",
                            "message": "This request could not be executed before the batch ended.",
                        },
                    }
                )
                continue
            if cid in self.output_errors:
                outputs.append(
                    {
                        "id": f"batch_req_{index}",
                        "custom_id": cid,
                        "response": {
                            "status_code": 400,
                            "request_id": "req_x",
                            "body": {
                                "error": {
                                    "message": "Invalid 'messages': empty.",
                                    "type": "invalid_request_error",
                                    "param": "messages",
                                    "code": None,
                                }
                            },
                        },
                        "error": None,
                    }
                )
                continue
            status, body = self.complete(line["body"])
            self.log.append(
                {
                    "method": "BATCH",
                    "path": "(run)",
                    "status": status,
                    "prompt": line["body"]["messages"][-1]["content"],
                    "answered": status == 200,
                    "body": line["body"],
                }
            )
            target = outputs if status == 200 else errors
            target.append(
                {
                    "id": f"batch_req_{index}",
                    "custom_id": cid,
                    "response": {"status_code": status, "request_id": f"req_{index}", "body": body},
                    "error": None,
                }
            )
        outputs.reverse()  # never in input order
        errors.reverse()
        batch["output_file_id"] = self._store(outputs)
        batch["error_file_id"] = self._store(errors) if errors else ""  # "" seen for none
        batch["status"] = self.ends_as if self.expire_after is not None else "completed"
        batch["request_counts"] = {
            "total": len(lines),
            "completed": len(outputs),
            "failed": len(errors),
        }

    def _store(self, lines: list[dict[str, Any]]) -> str | None:
        if not lines:
            return None
        ident = f"file-out-{len(self.files) + 1}"
        self.files[ident] = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
        return ident
