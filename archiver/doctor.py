"""``archiver doctor``: check credentials and base URL before a job goes into cron.

The framework every provider's checks share (``Provider.doctor``): a report of checks, each
ending ok, WARN or FAIL with a reason in plain words, and the plain-words diagnosis of a failed
request. Exit code: 2 when a FAIL is about credentials or configuration (expired token, wrong
base URL, unreachable host), 1 for any other FAIL (challenge page, server errors), 0 otherwise;
warnings never fail the run. Requests go through the shared HttpClient with no retries: a
doctor reports, it does not insist. Nothing here prints a secret: messages come from statuses
and paths only."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from archiver.errors import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    AuthError,
    ChallengeError,
    ConfigError,
    NotFoundError,
    QuotaExhausted,
    RateLimitExceeded,
    TransientError,
    UpstreamError,
)

if TYPE_CHECKING:
    from archiver.transport.http import RetryPolicy

OK, WARN, FAIL, SKIP = "ok", "WARN", "FAIL", "skip"
CONFIG, OTHER = "config", "other"  # what a FAIL is about: decides exit code 2 or 1
MAX_SKEW_SECONDS = 300.0
TOKEN_WARN_DAYS = 3


def doctor_policy() -> RetryPolicy:
    """One try per check: a doctor reports what it sees; it never hammers a failing server."""
    from archiver.transport.http import RetryPolicy

    return RetryPolicy(max_attempts=1, max_throttles=1)


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | WARN | FAIL | skip
    detail: str
    kind: str | None = None  # for FAIL: CONFIG or OTHER


@dataclass
class DoctorReport:
    provider: str
    target: str  # the base URL checked, without query string or user info
    checks: list[Check] = field(default_factory=list)
    host: str = ""  # the checked host (and port), as a failed check names it
    # How a failed check names the account's credential, and what a right base URL looks
    # like ("it should end in /v1"): ``diagnose``'s words for this provider.
    credential: str = "access token"
    url_hint: str = ""

    @classmethod
    def at(
        cls, provider: str, base_url: str, *, credential: str = "access token", url_hint: str = ""
    ) -> DoctorReport:
        """The report on ``provider``'s server at ``base_url`` (named without user info)."""
        host = urlsplit(base_url).netloc.rpartition("@")[2] or base_url
        return cls(
            provider, safe_url(base_url), host=host, credential=credential, url_hint=url_hint
        )

    def add_failure(self, exc: UpstreamError, name: str, *, first: bool) -> None:
        """Add the check a failed request makes (``diagnose``), in this report's words."""
        self.checks.append(
            diagnose(
                exc,
                name=name,
                host=self.host,
                first=first,
                credential=self.credential,
                url_hint=self.url_hint,
            )
        )

    @property
    def exit_code(self) -> int:
        kinds = {check.kind for check in self.checks if check.status == FAIL}
        if CONFIG in kinds:
            return EXIT_CONFIG
        return EXIT_FAILED if kinds else EXIT_OK

    def counts(self) -> dict[str, int]:
        return {
            status.lower(): sum(1 for check in self.checks if check.status == status)
            for status in (OK, WARN, FAIL, SKIP)
        }

    def lines(self) -> list[str]:
        out = [f"{self.provider} at {self.target}"]
        out += [f"  {c.status:<4}  {c.name:<14} {c.detail}" for c in self.checks]
        return out

    def line(self) -> str:
        counts = self.counts()
        verdict = "all checks passed" if self.exit_code == EXIT_OK else "problems found"
        return (
            f"{self.provider} doctor: {verdict} ({counts['ok']} ok, {counts['warn']} warnings, "
            f"{counts['fail']} failed, {counts['skip']} skipped)"
        )


def safe_url(url: str) -> str:
    """A URL fit to print: no query string, fragment or user info."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


# --- plain-words diagnosis (pure) -----------------------------------------------------------


def diagnose(
    exc: UpstreamError,
    *,
    name: str,
    host: str,
    first: bool,
    credential: str = "access token",
    url_hint: str = "",
) -> Check:
    """Turn a failed request into a check. ``first``: the request that tells whether the base
    URL is right at all (a 404 there is a wrong URL; later it is a missing feature).
    ``url_hint`` says what a right base URL looks like ("it should end in /backend-api")."""
    hint = f" ({url_hint})" if url_hint else ""
    if isinstance(exc, AuthError):
        if exc.status == 403:
            return Check(
                name, FAIL, f"access forbidden (403): the {credential} is not allowed here", CONFIG
            )
        return Check(
            name,
            FAIL,
            f"the {credential} was refused ({exc.status or 'unauthorized'}): it has expired or "
            f"is wrong; get a fresh one",
            CONFIG,
        )
    if isinstance(exc, ChallengeError):
        if exc.status == 403:
            return Check(
                name,
                FAIL,
                "a challenge page (403 HTML) came back instead of the API: the server wants a "
                "browser check; try later, or from the network your browser uses",
                OTHER,
            )
        return Check(
            name,
            FAIL,
            f"{host} answered a web page, not the API: wrong base URL? "
            "(it should end in /backend-api)",
            CONFIG,
        )
    if isinstance(exc, NotFoundError):
        if first:
            return Check(
                name,
                FAIL,
                f"not found (404) on {host}: wrong base URL?{hint}",
                CONFIG,
            )
        return Check(name, WARN, "not offered by this server (404)")
    if isinstance(exc, RateLimitExceeded):
        return Check(name, FAIL, "rate limited (429): wait before running jobs", OTHER)
    if isinstance(exc, QuotaExhausted):
        return Check(name, FAIL, str(exc), OTHER)
    if isinstance(exc, TransientError):
        if exc.status is None:
            return Check(
                name,
                FAIL,
                f"cannot connect to {host} (refused, unreachable or timed out): wrong base URL, "
                "or the server is down",
                CONFIG,
            )
        if 200 <= exc.status < 300:
            return Check(
                name,
                FAIL,
                f"{host} answered {exc.status} with something that is not JSON: wrong base URL?",
                CONFIG,
            )
        return Check(name, FAIL, f"server error ({exc.status}): try again later", OTHER)
    return Check(name, FAIL, str(exc), OTHER)


def clock_check(headers: Mapping[str, str], now: datetime) -> Check:
    skew = clock_skew_seconds(headers, now)
    if skew is None:
        return Check("clock", SKIP, "the server sent no Date header")
    if abs(skew) > MAX_SKEW_SECONDS:
        direction = "behind" if skew > 0 else "ahead of"
        return Check(
            "clock",
            WARN,
            f"the local clock is {abs(skew) / 60:.0f} minutes {direction} the server's: "
            "token expiry and cool-downs will be misjudged; sync the clock (NTP)",
        )
    return Check("clock", OK, f"local clock within {abs(skew):.0f} s of the server's")


def token_check(token: str, source: str, now: datetime) -> Check:
    expires = token_expiry(token)
    if expires is None:
        return Check("token", OK, f"set ({source}); expiry not readable from it")
    left = expires - now
    when = expires.strftime("%Y-%m-%d %H:%M UTC")
    if left.total_seconds() <= 0:
        return Check("token", WARN, f"set ({source}) but it says it expired at {when}")
    if left.days < TOKEN_WARN_DAYS:
        hours = left.total_seconds() / 3600
        return Check("token", WARN, f"set ({source}); expires at {when}, in {hours:.0f} h")
    return Check("token", OK, f"set ({source}); expires at {when} (in {left.days} days)")


def server_date(headers: Mapping[str, str]) -> datetime | None:
    """The answer's ``Date`` header as an aware datetime; None when absent or unreadable."""
    value = headers.get("Date") or headers.get("date")
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def clock_skew_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """Server time minus local time, in seconds (positive: the local clock is behind)."""
    when = server_date(headers)
    return None if when is None else (when - now).total_seconds()


def token_expiry(token: str) -> datetime | None:
    """The ``exp`` claim of a JWT access token, read without verifying it (only to tell the user
    when it runs out). None when the token is not a readable JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    segment = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(segment))
        exp = claims.get("exp") if isinstance(claims, dict) else None
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            return None
        return datetime.fromtimestamp(exp, tz=UTC)
    except (ValueError, TypeError, OverflowError, OSError):
        return None


@dataclass(frozen=True)
class DoctorRun:
    """How one ``doctor`` run checks: the secret's source as messages name it, the (no-retry)
    policy, the timeout, and a fixed clock (tests) or None for the real one."""

    token_source: str
    policy: RetryPolicy
    timeout_seconds: float
    now: datetime | None

    def clock(self) -> datetime:
        """What the token and the server's time are judged against, read when judged."""
        return self.now or datetime.now(tz=UTC)


async def run_doctor(
    provider: Any,
    values: Mapping[str, Any],
    *,
    timeout_seconds: float = 30.0,
    policy: RetryPolicy | None = None,
    now: datetime | None = None,
) -> DoctorReport:
    """Load ``provider``'s settings from the environment (or the 0600 file ``values`` name) and
    run its checks (``provider.doctor``). A missing or unreadable secret is a FAIL of the first
    check, not an exception."""
    name = provider.name
    try:
        if provider.doctor is None:
            raise ConfigError(f"{provider.title} has no account checks (it has no live API)")
        own = provider.credential_options()
        foreign = [k for k, v in values.items() if v and k.endswith("_file") and k not in own]
        if foreign:
            flag = "--" + foreign[0].replace("_", "-")
            raise ConfigError(f"{flag} is not a credential of {provider.title}")
        settings = provider.settings_from_env(values)
    except ConfigError as exc:
        report = DoctorReport(name, "(not configured)")
        report.checks.append(Check(provider.secret or "settings", FAIL, str(exc), CONFIG))
        return report
    given = any(values.get(key) for key in values if key.endswith("_file"))
    run = DoctorRun(
        token_source="the file given" if given else (provider.secret_env or "the environment"),
        policy=policy or doctor_policy(),
        timeout_seconds=timeout_seconds,
        now=now,
    )
    checked: DoctorReport = await provider.doctor.check(settings, run)
    return checked
