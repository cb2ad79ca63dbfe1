"""``archiver doctor --provider claude``: the session key and the host, by listing the
organizations and one page of conversations (no retries)."""

from __future__ import annotations

from archiver.doctor import CONFIG, FAIL, OK, WARN, Check, DoctorReport, DoctorRun, clock_check
from archiver.errors import AuthError, UpstreamError
from archiver.providers.claude.client import ClaudeClient, ClaudeSettings, new_claude_http
from archiver.providers.claude.options import PROVIDER
from archiver.providers.claude.parse import chat_organizations
from archiver.transport.http import new_session
from archiver.transport.ratelimit import RateLimiter

CREDENTIAL = "claude.ai session key"


def session_check(settings: ClaudeSettings, source: str) -> Check:
    names = {part.split("=", 1)[0].strip() for part in settings.session.reveal().split(";")}
    if "sessionKey" in names:
        return Check("session key", OK, f"set ({source}); a sessionKey cookie")
    return Check(
        "session key",
        WARN,
        f"set ({source}) but it holds no sessionKey cookie: paste the sessionKey value or the "
        "whole Cookie header of a signed-in browser",
    )


def _add_failure(report: DoctorReport, exc: UpstreamError, name: str, *, first: bool) -> None:
    if isinstance(exc, AuthError):
        report.checks.append(Check(name, FAIL, str(exc), CONFIG))
    else:
        report.add_failure(exc, name, first=first)


async def check_claude(settings: ClaudeSettings, run: DoctorRun) -> DoctorReport:
    report = DoctorReport.at(PROVIDER, settings.base_url, credential=CREDENTIAL)
    report.checks.append(session_check(settings, run.token_source))
    async with new_session(timeout_seconds=run.timeout_seconds) as session:
        client = ClaudeClient(new_claude_http(session, RateLimiter(None), run.policy), settings)
        try:
            orgs = await client.organizations()
        except UpstreamError as exc:
            _add_failure(report, exc, "organizations", first=True)
            return report
        headers = client.last_headers
        chats = chat_organizations(orgs)
        if not chats:
            report.checks.append(
                Check("organizations", FAIL, f"{len(orgs)} listed, none with chat", CONFIG)
            )
            return report
        report.checks.append(
            Check("organizations", OK, f"{len(orgs)} listed, {len(chats)} with chat")
        )
        try:
            page = await client.list_page(chats[0].uuid, 0, {}, limit=1)
        except UpstreamError as exc:
            _add_failure(report, exc, "conversations", first=False)
            return report
    more = " (more pages)" if page.has_more else ""
    report.checks.append(Check("conversations", OK, f"{page.size} on the first page{more}"))
    report.checks.append(clock_check(headers, run.clock()))
    return report


check = check_claude  # the name the contract gives it (archiver/providers/modules.py)
