"""``POST accounts/data_export``: ask ChatGPT to e-mail the official export, and record the
request (and its answer, or why it failed) in ``export_requests``. Usable as a job kind."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from archiver.errors import UpstreamError
from archiver.flatten.records import dumps
from archiver.providers.chatgpt.account import open_account_client
from archiver.providers.chatgpt.account_parse import parse_export_status
from archiver.providers.chatgpt.account_summary import CountingSummary
from archiver.providers.chatgpt.client import DEFAULT_PACE, ChatGPTSettings
from archiver.providers.chatgpt.options import PROVIDER
from archiver.store import transaction
from archiver.timeutil import utc_now_iso
from archiver.transport.pace import ClientPace


@dataclass
class ExportRequestSummary(CountingSummary):
    label: str = "export request"
    requested: int = 0
    failed: int = 0
    status: str | None = None  # what upstream answered ("queued")

    def line(self) -> str:
        said = f" (upstream said {self.status!r})" if self.status else ""
        return super().line() + said


def record_export_request(
    db: sqlite_utils.Database,
    account: str,
    *,
    status: str | None,
    raw: object | None,
    error: str | None,
) -> None:
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO export_requests (provider, account, requested_at, status, raw_json, error) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [PROVIDER, account, utc_now_iso(), status, None if raw is None else dumps(raw), error],
        )


async def request_export(
    db: sqlite_utils.Database,
    settings: ChatGPTSettings,
    *,
    pace: ClientPace = DEFAULT_PACE,
) -> ExportRequestSummary:
    """One export request. Failures are recorded too (status ``failed``) and set the exit
    code (2 for a refused token); they are returned in the summary, not raised."""
    summary = ExportRequestSummary()
    async with open_account_client(settings, pace=pace) as client:
        try:
            answer = await client.request_export()
        except UpstreamError as exc:
            summary.failed += 1
            summary.abort(exc)
            record_export_request(db, settings.account, status="failed", raw=None, error=str(exc))
        else:
            summary.requested += 1
            summary.status = parse_export_status(answer)
            record_export_request(
                db, settings.account, status=summary.status, raw=answer, error=None
            )
        summary.take_stats(client.http.stats)
    return summary
