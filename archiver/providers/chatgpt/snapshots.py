"""Account snapshots: what ``accounts/check``, ``models``, ``settings/beta_features`` and
``public-api/conversation_limit`` answered, raw and timestamped, one row per endpoint per run,
so the archive shows how plan, models and limits changed over time (4 requests per run).

A failing endpoint is recorded (status + error) and skipped: snapshots are a side record and
must not fail a backup, nor slow it down: they are not retried (429s still wait for the
shared limiter, as every request does). Two failures stop the caller, because every later request would fail
the same way: a 401 (the token was refused) and a 403 challenge page."""

from __future__ import annotations

from dataclasses import dataclass, replace

import sqlite_utils

from archiver.errors import AuthError, ChallengeError, TransientError, UpstreamError
from archiver.flatten.records import dumps
from archiver.providers.chatgpt.account import AccountClient, JsonResponse, with_policy
from archiver.providers.chatgpt.account_parse import SNAPSHOT_ENDPOINTS, AccountEndpoint
from archiver.providers.chatgpt.client import ChatGPTClient
from archiver.providers.chatgpt.options import PROVIDER
from archiver.store import transaction
from archiver.timeutil import utc_now_iso


@dataclass(frozen=True)
class EndpointResult:
    endpoint: AccountEndpoint
    response: JsonResponse | None
    error: UpstreamError | None

    @property
    def ok(self) -> bool:
        return self.response is not None

    @property
    def status(self) -> int | None:
        """200 for an answer (the shared client accepts any 2xx; they all mean answered)."""
        if self.response is not None:
            return 200
        return self.error.status if self.error is not None else None


def stops_the_run(exc: UpstreamError) -> bool:
    """A refused token or a challenge page: the conversation list would fail the same way.
    A 403 with JSON is not counted: some accounts are refused one endpoint only."""
    if isinstance(exc, AuthError):
        return exc.status == 401
    return isinstance(exc, ChallengeError) and exc.status == 403


async def query_endpoint(client: AccountClient, endpoint: AccountEndpoint) -> EndpointResult:
    try:
        return EndpointResult(endpoint, await client.get(endpoint), None)
    except UpstreamError as exc:
        return EndpointResult(endpoint, None, exc)


def record_snapshot(
    db: sqlite_utils.Database, account: str, result: EndpointResult, taken_at: str
) -> None:
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO account_snapshots (provider, account, endpoint, taken_at, status, "
            "raw_json, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                PROVIDER,
                account,
                result.endpoint.name,
                taken_at,
                result.status,
                dumps(result.response.data) if result.response is not None else None,
                str(result.error) if result.error is not None else None,
            ],
        )


async def snapshot_account(db: sqlite_utils.Database, client: ChatGPTClient | AccountClient) -> int:
    """Query the four account endpoints and record each answer (or failure) in
    ``account_snapshots``. Returns how many answered. Raises the AuthError/ChallengeError of
    a refused token or a challenge page, after recording it, without querying further."""
    base = client.client if isinstance(client, AccountClient) else client
    http = with_policy(base.http, replace(base.http.policy, max_attempts=1))
    account_client = AccountClient(ChatGPTClient(http, base.settings))
    account = account_client.settings.account
    answered = 0
    for endpoint in SNAPSHOT_ENDPOINTS:
        result = await query_endpoint(account_client, endpoint)
        record_snapshot(db, account, result, utc_now_iso())
        if result.error is not None and stops_the_run(result.error):
            raise result.error
        if result.error is not None and _no_answer(result.error):
            # A timeout or a refused connection: the other endpoints would each wait it out too
            # (4 x --timeout before the backup starts). The snapshot is optional; skip the rest.
            break
        answered += result.ok
    return answered


def _no_answer(error: BaseException) -> bool:
    """The server gave no answer at all (as opposed to an HTTP error status)."""
    return isinstance(error, TransientError) and getattr(error, "status", None) is None
