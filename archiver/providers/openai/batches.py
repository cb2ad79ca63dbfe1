"""The Batch API (``POST /files`` + ``/batches``) as the engine's ``RemoteBatches``
(``archiver/batch/remote.py``): the wire only; what goes into which batch, what is recorded
when, and the waiting are the engine's (``archiver/batch/remote_run.py``).

- A batch's input is one JSONL line per row: ``{"custom_id": the row's id, "method": "POST",
  "url": "/v1/chat/completions", "body": the same request the plain mode sends}``, uploaded as
  ``multipart/form-data`` with ``purpose=batch``; the batch is created with the
  ``/v1/chat/completions`` endpoint and the ``24h`` window (the only one).
- Creating a batch is never repeated blindly: after a failure that may have reached the server
  (a 5xx, a dropped connection) the batches are listed and the one made from the same input
  file is taken; only when there is none is it created again.
- Results come from the output and the error files, in any order, mapped by ``custom_id``.
  Every line's ``status_code`` is checked (compatible servers put failures in the output
  file). A request the batch never ran (``batch_expired``) gets no result: its row goes back
  to pending.

The same shape serves other providers' batch modes: Anthropic's Message Batches (requests
inline in ``POST /v1/messages/batches``, results as JSONL from ``results_url``, statuses
``in_progress``/``ended``) and Gemini's batch mode (inline requests or an uploaded JSONL,
results keyed by each request's ``key``) would each be a ``RemoteBatches`` of their own
provider package, opened by its ``Sending.open_batches``: ``encode`` one request, ``submit``
(upload where there is a file, create, journal each id), ``status`` and ``results``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from archiver.batch.remote import Journal, Part, RemoteRequest, RemoteResult, RemoteStatus
from archiver.batch.sender import CallStats, FailedAnswer, SenderSetup
from archiver.errors import (
    ConfigError,
    NotFoundError,
    RateLimitExceeded,
    TransientError,
    UpstreamError,
    WrongEndpointError,
)
from archiver.providers.openai.chat import ChatOptions, answer_for, messages_for, request_body
from archiver.providers.openai.client import OpenAIClient, OpenAISettings, once_policy
from archiver.providers.openai.exchange import ExchangeArchive
from archiver.providers.openai.pacing import ApiPacer
from archiver.providers.openai.parse import (
    batch_status,
    file_id,
    line_outcome,
    parse_completion,
    result_lines,
)
from archiver.transport.request import FormField

MAX_REQUESTS = 50_000  # requests one batch may hold
MAX_BYTES = 200 * 1024 * 1024  # bytes its input file may have
ENDPOINT = "/v1/chat/completions"
WINDOW = "24h"
FIND_PAGES = 5  # pages of GET /batches searched for a batch whose create answer was lost


def no_batch_api(settings: OpenAISettings, path: str, exc: UpstreamError) -> ConfigError:
    return ConfigError(
        f"{settings.account} has no {path} endpoint ({exc.status or 'not found'}): servers such "
        "as Ollama, vLLM and LM Studio serve chat completions only; run without --batch-api"
    )


class OpenAIBatches(ExchangeArchive):
    max_requests = MAX_REQUESTS
    max_bytes = MAX_BYTES

    def __init__(
        self, setup: SenderSetup, settings: OpenAISettings, options: ChatOptions, pacer: ApiPacer
    ):
        super().__init__(setup, settings, options)
        self.options: ChatOptions = options
        self.client = OpenAIClient(setup.transport, settings, pacer, setup.policy)
        self.stats = CallStats()

    def encode(self, request: RemoteRequest) -> bytes:
        body = request_body(
            request.model, messages_for(request.thread, request.prompt), self.options
        )
        line = {"custom_id": request.custom_id, "method": "POST", "url": ENDPOINT, "body": body}
        return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    async def submit(self, part: Part, journal: Journal) -> RemoteStatus:
        input_file = part.input_file_id
        if input_file is None:
            input_file = await self._upload(part)
            journal.input_file(input_file)
        else:
            # A killed run uploaded it; its create may have reached the server.
            found = await self._find(input_file)
            if found is not None:
                return found
        return await self._create(input_file, part.label)

    async def _upload(self, part: Part) -> str:
        content = b"".join(line + b"\n" for line in part.lines)
        name = f"{part.label or 'archiver'}.jsonl"  # the Batch API wants a .jsonl name
        form = [
            FormField("purpose", "batch"),
            FormField("file", content, filename=name, content_type="application/jsonl"),
        ]
        try:
            payload = await self.client.json("POST", "files", self.stats, form=form)
        except (WrongEndpointError, NotFoundError) as exc:
            raise no_batch_api(self.settings, "Files", exc) from None
        uploaded = payload.get("id") if isinstance(payload, dict) else None
        if not isinstance(uploaded, str) or not uploaded:
            raise UpstreamError("POST /files answered no file id")
        return uploaded

    async def _create(self, input_file: str, label: str) -> RemoteStatus:
        body = {
            "input_file_id": input_file,
            "endpoint": ENDPOINT,
            "completion_window": WINDOW,
            "metadata": {"archiver": label or "archiver"},
        }
        tries = 0
        while True:
            tries += 1
            try:
                payload = await self.client.json(
                    "POST", "batches", self.stats, body=body, policy=once_policy(self.policy)
                )
                return self._status(payload, "POST /batches")
            except RateLimitExceeded:
                raise
            except (WrongEndpointError, NotFoundError) as exc:
                raise no_batch_api(self.settings, "Batches", exc) from None
            except TransientError:
                # The create may have gone through: never make a second batch of one input.
                found = await self._find(input_file)
                if found is not None:
                    return found
                if tries >= self.policy.max_attempts:
                    raise
                await asyncio.sleep(self.policy.backoff(tries))

    async def _find(self, input_file: str) -> RemoteStatus | None:
        """The newest batch made from ``input_file``, or None (after FIND_PAGES pages)."""
        params: dict[str, str] = {"limit": "100"}
        for _ in range(FIND_PAGES):
            try:
                page = await self.client.json("GET", "batches", self.stats, params=params)
            except (WrongEndpointError, NotFoundError):
                return None
            data = page.get("data") if isinstance(page, dict) else None
            for batch in data if isinstance(data, list) else []:
                if isinstance(batch, dict) and batch.get("input_file_id") == input_file:
                    return self._status(batch, "GET /batches")
            last = page.get("last_id") if isinstance(page, dict) else None
            if not page.get("has_more") or not isinstance(last, str):
                return None
            params = {"limit": "100", "after": last}
        return None

    async def status(self, batch_id: str) -> RemoteStatus:
        payload = await self.client.json("GET", f"batches/{batch_id}", self.stats)
        return self._status(payload, "GET /batches/{id}")

    @staticmethod
    def _status(payload: Any, place: str) -> RemoteStatus:
        try:
            return batch_status(payload)
        except ValueError as exc:
            raise TransientError(f"{place}: {exc}") from None

    async def results(
        self, status: RemoteStatus, requests: Mapping[str, RemoteRequest]
    ) -> list[RemoteResult]:
        results = []
        for key in ("output_file_id", "error_file_id"):
            name = file_id(status.raw.get(key))
            if name is None:
                continue
            data = await self.client.content(f"files/{name}/content", self.stats)
            for line in result_lines(data):
                outcome = line_outcome(line)
                request = requests.get(outcome.custom_id)
                if request is None or outcome.not_run:
                    continue
                results.append(self._result(request, outcome.completion, outcome.error))
        return results

    def _result(self, request: RemoteRequest, payload: Any, error: str | None) -> RemoteResult:
        if error is not None:
            return RemoteResult(request.custom_id, error=error)
        try:
            completion = parse_completion(payload)
        except ValueError as exc:
            return RemoteResult(request.custom_id, error=f"unreadable answer: {exc}")
        try:
            answer = answer_for(request.thread, request.prompt, completion, self.options)
        except FailedAnswer as exc:
            return RemoteResult(request.custom_id, error=str(exc), facts=exc.facts)
        return RemoteResult(request.custom_id, answer=answer)
