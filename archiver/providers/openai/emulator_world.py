"""The fake OpenAI-compatible server's world (``emulator.py`` serves it): the key's rate-limit
buckets, the answers, the uploaded files and the batches as time moves them along. No HTTP
here; every handler runs on the emulator's one event-loop thread, and the lock only guards
the counters tests read from another thread.

Answers are a pure function of the request: ``Answer to: <last prompt>`` (with the turn number
in a thread), structured output when a JSON schema is asked for, and two triggers for the
error paths: a prompt holding ``[length]`` gets an empty answer cut at its length, and a
request whose estimate exceeds ``context_tokens`` is refused (400 context_length_exceeded)."""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archiver.loosejson import Json

MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-5-nano")
SNAPSHOTS = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18", "gpt-4o": "gpt-4o-2024-08-06"}


@dataclass
class OpenAIEmulatorConfig:
    """The knobs: ``archiver emulator --set openai.KEY=VALUE``."""

    key: str = "emulator-openai-key"
    rpm: int = 0  # requests per minute per key; 0: no limit and no rate-limit headers
    tpm: int = 0  # tokens per minute per key (prompt estimate + max tokens); 0: no limit
    window_seconds: float = 1.0  # the per-minute limits are enforced over windows this short
    retry_after: bool = True  # 429s carry retry-after-ms and retry-after
    context_tokens: int = 16_384  # a request estimated beyond this: 400 context_length_exceeded
    insufficient_quota: bool = False  # every completion: 429 insufficient_quota
    batches: bool = True  # false: no Files or Batches endpoints (as Ollama, vLLM)
    stage_seconds: float = 1.0  # validating this long, in progress twice this, then finalizing
    # (0: a batch is over at its first look)
    expire_after: int = -1  # a batch runs this many requests, then expires (-1: never)
    fail_validation: bool = False  # every batch fails validation
    seed: int = 0


def estimate(body: Json) -> int:
    """What the server charges a request up front: its text at four characters a token, plus
    the longest answer it allows."""
    found = body.get("messages")
    messages: list[Any] = found if isinstance(found, list) else []
    chars = sum(len(str(m.get("content") or "")) for m in messages if isinstance(m, dict))
    longest = body.get("max_completion_tokens") or body.get("max_tokens") or 0
    return math.ceil(chars / 4) + 4 * len(messages) + (longest if isinstance(longest, int) else 0)


def go_duration(seconds: float) -> str:
    """``12ms``, ``1.5s``, ``6m0s``: how the API writes its reset times."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    if seconds < 60:
        return f"{seconds:.3g}s"
    return f"{int(seconds // 60)}m{int(seconds % 60)}s"


class Bucket:
    """``limit`` a minute, enforced over ``window`` seconds: never more than a window's share
    at once. A request larger than a window's share waits for a full bucket."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float]):
        self.limit = limit
        self.rate = limit / 60.0
        self.capacity = max(1.0, limit * window / 60.0)
        self.level = self.capacity
        self.clock = clock
        self.updated = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    def wait_for(self, cost: int) -> float:
        """Seconds until ``cost`` fits (0: it fits now)."""
        self._refill()
        need = min(float(cost), self.capacity)
        return 0.0 if self.level >= need else (need - self.level) / self.rate

    def take(self, cost: int) -> None:
        self.level -= cost

    def headers(self, name: str) -> dict[str, str]:
        self._refill()
        full_in = (self.capacity - self.level) / self.rate if self.level < self.capacity else 0.0
        remaining = max(0, int(self.limit - (self.capacity - self.level)))
        return {
            f"x-ratelimit-limit-{name}": str(self.limit),
            f"x-ratelimit-remaining-{name}": str(remaining),
            f"x-ratelimit-reset-{name}": go_duration(full_in),
        }


def api_error(message: str, kind: str, code: str | None, param: str | None = None) -> Json:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def schema_instance(schema: Any, root: Any = None) -> Any:
    """A small value matching a JSON schema (structured output, as a model would give)."""
    root = schema if root is None else root
    if not isinstance(schema, dict):
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return schema_instance(target, root)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for keyword in ("anyOf", "oneOf"):
        if isinstance(schema.get(keyword), list) and schema[keyword]:
            return schema_instance(schema[keyword][0], root)
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    if kind == "object" or "properties" in schema:
        found = schema.get("properties")
        properties: Json = found if isinstance(found, dict) else {}
        return {name: schema_instance(sub, root) for name, sub in properties.items()}
    if kind == "array":
        return [schema_instance(schema.get("items"), root)] * int(schema.get("minItems") or 1)
    values = {"string": "example", "integer": 1, "number": 1.5, "boolean": True, "null": None}
    return values.get(kind) if isinstance(kind, str) else None


def completion(body: Json, ident: str, created: int) -> tuple[int, Json]:
    """(status, answer) for a chat completion request, rate limits aside."""
    model = body.get("model")
    messages = body.get("messages")
    if not isinstance(model, str) or not model:
        return 400, api_error("you must provide a model parameter", "invalid_request_error", None)
    if not isinstance(messages, list) or not messages:
        return 400, api_error("'messages' must be a non-empty array", "invalid_request_error", None)
    prompts = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    prompt = str(prompts[-1].get("content") or "") if prompts else ""
    turn = len(prompts)
    schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema")
    finish = "stop"
    if "[length]" in prompt:
        text, finish = "", "length"
    elif isinstance(schema, dict):
        text = json.dumps(schema_instance(schema))
    else:
        text = f"Answer to: {prompt}" + (f" (turn {turn})" if turn > 1 else "")
    chars = sum(len(str(m.get("content") or "")) for m in messages if isinstance(m, dict))
    prompt_tokens = math.ceil(chars / 4) + 3 * len(messages)
    # An answer cut at its length spent every token it had (on reasoning, when it is empty).
    longest = body.get("max_completion_tokens") or body.get("max_tokens") or 16
    completion_tokens = max(1, len(text.split())) if text else int(longest)
    answer = {
        "id": f"chatcmpl-{ident}",
        "object": "chat.completion",
        "created": created,
        "model": SNAPSHOTS.get(model, model),
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": text,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0 if text else completion_tokens},
        },
        "service_tier": "default",
        "system_fingerprint": None,
    }
    return 200, answer


@dataclass
class StoredFile:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int

    def object(self) -> Json:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": self.created_at + 30 * 86400,
            "status_details": None,
        }


@dataclass
class Batch:
    id: str
    input_file_id: str
    metadata: Json
    created: float  # the world's clock
    created_at: int  # unix seconds, as shown
    lines: list[Json] = field(default_factory=list)
    status: str = "validating"
    errors: list[Json] = field(default_factory=list)
    output_file_id: str | None = None
    error_file_id: str | None = None
    cancelled: bool = False
    counts: Json = field(default_factory=lambda: {"total": 0, "completed": 0, "failed": 0})
    usage: Json = field(default_factory=dict)
    times: Json = field(default_factory=dict)  # in_progress_at, completed_at, ...


class World:
    def __init__(self, config: OpenAIEmulatorConfig, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.clock = clock
        self.lock = threading.Lock()
        self.counters: Counter[str] = Counter()
        self.answered: Counter[str] = (
            Counter()
        )  # by request content: answered twice = a double send
        self.buckets: dict[str, tuple[Bucket | None, Bucket | None]] = {}
        self.files: dict[str, StoredFile] = {}
        self.batches: dict[str, Batch] = {}
        self._ids = 0

    def new_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self.config.seed:02d}{self._ids:08d}"

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counters[name] += n

    def stats(self) -> Json:
        with self.lock:
            doubles = sum(n - 1 for n in self.answered.values() if n > 1)
            return {**self.counters, "answered_twice": doubles}

    def buckets_for(self, key: str) -> tuple[Bucket | None, Bucket | None]:
        if key not in self.buckets:
            c = self.config
            self.buckets[key] = (
                Bucket(c.rpm, c.window_seconds, self.clock) if c.rpm else None,
                Bucket(c.tpm, c.window_seconds, self.clock) if c.tpm else None,
            )
        return self.buckets[key]

    def answer(self, body: Json) -> tuple[int, Json]:
        """A completion as the synchronous endpoint and the batch runner both give it."""
        limit = self.config.context_tokens
        used = estimate(body)
        if used > limit:
            message = (
                f"This model's maximum context length is {limit} tokens. However, your messages "
                f"resulted in {used} tokens. Please reduce the length of the messages."
            )
            return 400, api_error(
                message, "invalid_request_error", "context_length_exceeded", "messages"
            )
        status, answer = completion(body, self.new_id(""), int(time.time()))
        if status == 200:
            content = json.dumps(body.get("messages"), sort_keys=True)
            with self.lock:
                self.answered[f"{body.get('model')}:{content}"] += 1
        return status, answer

    # --- batches ---------------------------------------------------------------------------

    def advance(self, batch: Batch) -> None:
        """Move ``batch`` along by the time that has passed since it was created."""
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            return
        elapsed = self.clock() - batch.created
        stage = self.config.stage_seconds
        if batch.cancelled:
            self._finish(batch, "cancelled", run=0)
            return
        if elapsed < stage:
            return
        if batch.status == "validating":
            problems = self._validate(batch)
            if problems:
                batch.status, batch.errors = "failed", problems
                batch.times["failed_at"] = int(time.time())
                return
            batch.status = "in_progress"
            batch.times["in_progress_at"] = int(time.time())
            batch.counts["total"] = len(batch.lines)
        total = len(batch.lines)
        limit = self.config.expire_after
        runnable = total if limit < 0 else min(total, limit)
        share = min(1.0, (elapsed - stage) / (2 * stage)) if stage > 0 else 1.0
        batch.counts["completed"] = int(runnable * share)
        if elapsed >= 3 * stage and batch.status == "in_progress":
            batch.status = "finalizing"
            batch.times["finalizing_at"] = int(time.time())
        if elapsed >= 4 * stage:
            self._finish(batch, "expired" if runnable < total else "completed", run=runnable)

    def _validate(self, batch: Batch) -> list[Json]:
        if self.config.fail_validation:
            return [
                {
                    "code": "invalid_request",
                    "message": "The batch was refused (emulated).",
                    "param": None,
                    "line": 1,
                }
            ]
        problems = []
        models = set()
        stored = self.files.get(batch.input_file_id)
        raw = stored.content.splitlines() if stored else []
        for number, text in enumerate(raw, start=1):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
            except ValueError:
                problems.append(
                    {
                        "code": "invalid_json_line",
                        "message": "This line is not parseable as valid JSON.",
                        "param": None,
                        "line": number,
                    }
                )
                continue
            if line.get("url") != "/v1/chat/completions":
                problems.append(
                    {
                        "code": "mismatched_endpoint",
                        "message": "The url does not match the batch's endpoint.",
                        "param": "url",
                        "line": number,
                    }
                )
            models.add((line.get("body") or {}).get("model"))
            batch.lines.append(line)
        if len(models) > 1:
            problems.append(
                {
                    "code": "mismatched_model",
                    "message": "Every line of a batch must use the same model.",
                    "param": "body.model",
                    "line": None,
                }
            )
        ids = [line.get("custom_id") for line in batch.lines]
        if len(set(ids)) != len(ids):
            problems.append(
                {
                    "code": "duplicate_custom_id",
                    "message": "custom_id values must be unique.",
                    "param": "custom_id",
                    "line": None,
                }
            )
        return problems

    def _finish(self, batch: Batch, status: str, run: int) -> None:
        """Run the first ``run`` requests, write the result files (lines in random order)."""
        outputs, errors = [], []
        usage = {"input_tokens": 0, "output_tokens": 0}
        for index, line in enumerate(batch.lines):
            cid = line.get("custom_id")
            ident = self.new_id("batch_req_")
            if index >= run:
                code = "batch_cancelled" if status == "cancelled" else "batch_expired"
                errors.append(
                    {
                        "id": ident,
                        "custom_id": cid,
                        "response": None,
                        "error": {
                            "code": code,
                            "message": "This request could not be executed before the completion window expired.",
                        },
                    }
                )
                continue
            status_code, body = self.answer(line.get("body") or {})
            self.count("batch_requests_run")
            entry = {
                "id": ident,
                "custom_id": cid,
                "response": {
                    "status_code": status_code,
                    "request_id": f"req_{ident}",
                    "body": body,
                },
                "error": None,
            }
            if status_code == 200:
                usage["input_tokens"] += body["usage"]["prompt_tokens"]
                usage["output_tokens"] += body["usage"]["completion_tokens"]
                outputs.append(entry)
            else:
                errors.append(entry)
        shuffle = random.Random(f"{self.config.seed}:{batch.id}").shuffle
        shuffle(outputs)
        shuffle(errors)
        if outputs:
            batch.output_file_id = self._result_file(batch, "output", outputs)
        if errors:
            batch.error_file_id = self._result_file(batch, "error", errors)
        failed = sum(1 for e in errors if e["response"] is not None)
        batch.counts = {"total": len(batch.lines), "completed": len(outputs), "failed": failed}
        batch.usage = {**usage, "total_tokens": usage["input_tokens"] + usage["output_tokens"]}
        batch.status = status
        batch.times[f"{status}_at"] = int(time.time())

    def _result_file(self, batch: Batch, kind: str, lines: list[Json]) -> str:
        stored = StoredFile(
            self.new_id("file-"),
            f"{batch.id}_{kind}.jsonl",
            "batch_output",
            b"".join(json.dumps(line).encode() + b"\n" for line in lines),
            int(time.time()),
        )
        self.files[stored.id] = stored
        return stored.id

    def batch_object(self, batch: Batch) -> Json:
        self.advance(batch)
        times = {
            name: batch.times.get(name)
            for name in (
                "in_progress_at",
                "finalizing_at",
                "completed_at",
                "failed_at",
                "expired_at",
                "cancelling_at",
                "cancelled_at",
            )
        }
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "model": next(
                (str((line.get("body") or {}).get("model")) for line in batch.lines), None
            ),
            "errors": {"object": "list", "data": batch.errors} if batch.errors else None,
            "input_file_id": batch.input_file_id,
            "completion_window": "24h",
            "status": batch.status,
            "output_file_id": batch.output_file_id,
            "error_file_id": batch.error_file_id,
            "created_at": batch.created_at,
            "expires_at": batch.created_at + 86400,
            **times,
            "request_counts": dict(batch.counts),
            "metadata": batch.metadata,
            "usage": batch.usage or None,
        }
