"""``archiver doctor --provider copilot``: the token, identity type and host, by listing one
page of conversations (one request, no retries)."""

from __future__ import annotations

from archiver.doctor import OK, WARN, Check, DoctorReport, DoctorRun, clock_check, token_check
from archiver.errors import UpstreamError
from archiver.providers.copilot import parse
from archiver.providers.copilot.client import (
    IDENTITY_ENV,
    PROVIDER,
    CopilotSettings,
    new_copilot_http,
)
from archiver.transport.http import new_session
from archiver.transport.ratelimit import RateLimiter


async def check_copilot(settings: CopilotSettings, run: DoctorRun) -> DoctorReport:
    report = DoctorReport.at(PROVIDER, settings.base_url, credential="Copilot token")
    report.checks.append(token_check(settings.token.reveal(), run.token_source, run.clock()))
    if settings.identity_type:
        report.checks.append(Check("identity type", OK, f"{settings.identity_type!r}"))
    else:
        report.checks.append(
            Check("identity type", WARN, f"{IDENTITY_ENV} not set: some accounts need it")
        )
    async with new_session(timeout_seconds=run.timeout_seconds) as session:
        http = new_copilot_http(session, RateLimiter(None), run.policy)
        try:
            payload, headers = await http.request_json_with_headers(
                "GET",
                settings.url(parse.LIST_PATH),
                headers=settings.headers(),
                params=parse.list_params(),
            )
            chats, cursor, _ = parse.parse_chat_page(payload)
        except UpstreamError as exc:
            report.add_failure(exc, "conversations", first=True)
            return report
    more = " (more pages)" if cursor else ""
    report.checks.append(Check("conversations", OK, f"{len(chats)} listed on the first page{more}"))
    report.checks.append(clock_check(headers, run.clock()))
    return report


check = check_copilot  # the name the contract gives it (archiver/providers/modules.py)
