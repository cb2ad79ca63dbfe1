"""``archiver doctor --provider openai``: the key and the base URL, by listing the models (one
request, no retries), and what the server says about its rate limits."""

from __future__ import annotations

from archiver.batch.sender import CallStats
from archiver.doctor import OK, SKIP, Check, DoctorReport, DoctorRun, clock_check
from archiver.errors import UpstreamError
from archiver.providers.openai.client import OpenAIClient, OpenAISettings
from archiver.providers.openai.options import PROVIDER
from archiver.providers.openai.pacing import ApiPacer
from archiver.providers.openai.parse import rate_limits
from archiver.transport.http import new_session


async def check_openai(settings: OpenAISettings, run: DoctorRun) -> DoctorReport:
    report = DoctorReport.at(
        PROVIDER, settings.base_url, credential="API key", url_hint="it should end in /v1"
    )
    report.checks.append(Check("key", OK, f"set ({run.token_source})"))
    pacer = ApiPacer()
    async with new_session(timeout_seconds=run.timeout_seconds) as transport:
        client = OpenAIClient(transport, settings, pacer, run.policy)
        try:
            payload = await client.json("GET", "models", CallStats())
        except UpstreamError as exc:
            report.add_failure(exc, "models", first=True)
            return report
        headers = client.last_headers
    data = payload.get("data") if isinstance(payload, dict) else None
    count = len(data) if isinstance(data, list) else 0
    report.checks.append(Check("models", OK, f"{count} models offered to this key"))
    limits = rate_limits(headers)
    if limits.limit_requests or limits.limit_tokens:
        report.checks.append(
            Check(
                "rate limits",
                OK,
                f"{limits.limit_requests or '?'} requests and {limits.limit_tokens or '?'} "
                "tokens a minute (the batch paces itself from these)",
            )
        )
    else:
        report.checks.append(
            Check(
                "rate limits",
                SKIP,
                "this answer had no x-ratelimit headers (local servers send none; without them "
                "a batch is paced by --max-rpm/--max-tpm and --concurrency only)",
            )
        )
    report.checks.append(clock_check(headers, run.clock()))
    return report


check = check_openai  # the name the contract gives it (archiver/providers/modules.py)
