"""``archiver doctor --provider bing``: the cookie and host, by listing the saved chats."""

from __future__ import annotations

from archiver.doctor import OK, Check, DoctorReport, DoctorRun, clock_check
from archiver.errors import UpstreamError
from archiver.providers.bing import client as bing
from archiver.transport.http import new_session
from archiver.transport.ratelimit import RateLimiter


async def check_bing(settings: bing.BingSettings, run: DoctorRun) -> DoctorReport:
    """The Bing cookie and host: ``turing/conversation/chats`` must answer ``Success``."""
    report = DoctorReport.at("bing", settings.bing_base_url, credential="cookie")
    report.checks.append(Check("cookie", OK, f"set ({run.token_source})"))
    url = settings.bing_url(bing.CHATS_PATH)
    async with new_session(timeout_seconds=run.timeout_seconds) as session:
        http = bing.new_bing_http(session, RateLimiter(None), run.policy)
        try:
            payload, headers = await http.request_json_with_headers(
                "GET", url, headers=settings.headers()
            )
            chats = bing.parse_chat_list(payload)
        except UpstreamError as exc:
            report.add_failure(exc, "saved chats", first=True)
            return report
    report.checks.append(Check("saved chats", OK, f"{len(chats.chats)} saved chat(s) listed"))
    report.checks.append(clock_check(headers, run.clock()))
    return report


check = check_bing  # the name the contract gives it (archiver/providers/modules.py)
