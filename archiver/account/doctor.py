"""``archiver doctor``: check credentials and base URL before a job goes into cron.

Each check ends ok, WARN or FAIL with a reason in plain words. Exit code: 2 when a FAIL is
about credentials or configuration (expired token, wrong base URL, unreachable host), 1 for
any other FAIL (challenge page, server errors), 0 otherwise; warnings never fail the run.
Requests go through the shared HttpClient with no retries: a doctor reports, it does not
insist. Nothing here prints a secret: messages come from statuses and paths only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from archiver.account.snapshots import query_endpoint
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
from archiver.providers import registry
from archiver.providers.bing import client as bing
from archiver.providers.chatgpt.account import AccountClient
from archiver.providers.chatgpt.account_parse import (
    ACCOUNTS_CHECK,
    BETA_FEATURES,
    CONVERSATION_LIMIT,
    MODELS,
    AccountEndpoint,
    clock_skew_seconds,
    parse_account_check,
    parse_beta_features,
    parse_conversation_limit,
    parse_models,
    token_expiry,
)
from archiver.providers.chatgpt.client import ChatGPTClient, ChatGPTSettings
from archiver.providers.chatgpt.signed import ChatGPTHttp, open_chatgpt_session
from archiver.transport.http import RetryPolicy, new_session
from archiver.transport.ratelimit import RateLimiter

OK, WARN, FAIL, SKIP = "ok", "WARN", "FAIL", "skip"
CONFIG, OTHER = "config", "other"  # what a FAIL is about: decides exit code 2 or 1
MAX_SKEW_SECONDS = 300.0
TOKEN_WARN_DAYS = 3
# One try per check: a doctor reports what it sees; it never hammers a failing server.
DOCTOR_POLICY = RetryPolicy(max_attempts=1, max_throttles=1)


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
    exc: UpstreamError, *, name: str, host: str, first: bool, credential: str = "access token"
) -> Check:
    """Turn a failed request into a check. ``first``: the request that tells whether the base
    URL is right at all (a 404 there is a wrong URL; later it is a missing feature)."""
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
                f"not found (404) on {host}: wrong base URL? (it should end in /backend-api)",
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


def account_check(data: object) -> Check:
    info = parse_account_check(data)
    if not info.recognised:
        return Check(
            "account",
            FAIL,
            "answered JSON that is not an account status: wrong base URL?",
            CONFIG,
        )
    plan = info.plan or "unknown plan"
    paid = {True: ", paid", False: ", not paid", None: ""}[info.paid]
    expires = f", renews/expires {info.expires_at[:10]}" if info.expires_at else ""
    workspaces = f", {len(info.account_ids)} workspace(s)" if len(info.account_ids) > 1 else ""
    return Check("account", OK, f"{plan}{paid}{expires}, {len(info.features)} features{workspaces}")


def models_check(data: object) -> Check:
    slugs = parse_models(data)
    if not slugs:
        return Check("models", WARN, "no models listed")
    shown = ", ".join(slugs[:8]) + (f", ... ({len(slugs)} in all)" if len(slugs) > 8 else "")
    return Check("models", OK, shown)


def beta_check(data: object) -> Check:
    features = parse_beta_features(data)
    if not features:
        return Check("beta features", OK, "none reported")
    on = [name for name, enabled in features.items() if enabled]
    off = [name for name, enabled in features.items() if not enabled]
    return Check("beta features", OK, f"on: {', '.join(on) or 'none'}; off: {len(off)}")


def limits_check(data: object) -> Check:
    limit = parse_conversation_limit(data)
    if limit is None:
        return Check("limits", WARN, "answered an unexpected shape")
    return Check("limits", OK, limit.describe())


# --- the doctor interface ------------------------------------------------------------------


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


class DoctorCheck:
    """A provider's ``doctor`` entry, called as the registry calls it; ``check(settings, run)``
    does the work. ``token_source`` names the secret's variable when the caller names none."""

    def __init__(
        self, check: Callable[[Any, DoctorRun], Awaitable[DoctorReport]], token_source: str
    ):
        self.check = check
        self.token_source = token_source

    async def __call__(
        self,
        settings: Any,
        *,
        token_source: str | None = None,
        policy: RetryPolicy = DOCTOR_POLICY,
        timeout_seconds: float = 30.0,
        now: datetime | None = None,
    ) -> DoctorReport:
        run = DoctorRun(token_source or self.token_source, policy, timeout_seconds, now)
        return await self.check(settings, run)


def doctor_check(token_source: str) -> Callable[[Any], DoctorCheck]:
    """``@doctor_check("ENV_NAME")`` over ``async def check_x(settings, run)``."""
    return lambda check: DoctorCheck(check, token_source)


# --- the checks (I/O) ---------------------------------------------------------------------------


@doctor_check("CHATGPT_ACCESS_TOKEN")
async def check_chatgpt(settings: ChatGPTSettings, run: DoctorRun) -> DoctorReport:
    report = DoctorReport("chatgpt", safe_url(settings.base_url))
    host = urlsplit(settings.base_url).netloc.rpartition("@")[2] or settings.base_url
    if settings.token is not None:
        report.checks.append(token_check(settings.token.reveal(), run.token_source, run.clock()))
    else:  # session-cookie sign-in: the first request below proves it
        report.checks.append(Check("token", OK, "from the session cookie (CHATGPT_SESSION_TOKEN)"))
    views: list[tuple[AccountEndpoint, str, Callable[[object], Check]]] = [
        (MODELS, "models", models_check),
        (BETA_FEATURES, "beta features", beta_check),
        (CONVERSATION_LIMIT, "limits", limits_check),
    ]
    async with open_chatgpt_session(settings, timeout_seconds=run.timeout_seconds) as session:
        client = AccountClient(
            ChatGPTClient(
                ChatGPTHttp(session, RateLimiter(None), run.policy, settings=settings), settings
            )
        )
        first = await query_endpoint(client, ACCOUNTS_CHECK)
        if first.response is not None:
            report.checks.append(account_check(first.response.data))
            report.checks.append(clock_check(first.response.headers, run.clock()))
        else:
            assert first.error is not None
            report.checks.append(diagnose(first.error, name="account", host=host, first=True))
        if any(check.status == FAIL for check in report.checks):
            # The others would fail the same way: say so once.
            for _, name, _ in views:
                report.checks.append(Check(name, SKIP, "needs a working accounts/check"))
            return report
        for endpoint, name, judge in views:
            result = await query_endpoint(client, endpoint)
            if result.error is not None:
                report.checks.append(diagnose(result.error, name=name, host=host, first=False))
            else:
                assert result.response is not None
                report.checks.append(judge(result.response.data))
    return report


@doctor_check("BING_COOKIE")
async def check_bing(settings: bing.BingSettings, run: DoctorRun) -> DoctorReport:
    """The Bing cookie and host: ``turing/conversation/chats`` must answer ``Success``."""
    report = DoctorReport("bing", safe_url(settings.bing_base_url))
    host = urlsplit(settings.bing_base_url).netloc.rpartition("@")[2] or settings.bing_base_url
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
            report.checks.append(
                diagnose(exc, name="saved chats", host=host, first=True, credential="cookie")
            )
            return report
    report.checks.append(Check("saved chats", OK, f"{len(chats.chats)} saved chat(s) listed"))
    report.checks.append(clock_check(headers, run.clock()))
    return report


async def run_doctor(
    provider: str = "chatgpt",
    *,
    token_file: str | None = None,
    session_file: str | None = None,
    timeout_seconds: float = 30.0,
    policy: RetryPolicy = DOCTOR_POLICY,
    now: datetime | None = None,
) -> DoctorReport:
    """Load the provider's settings from the environment (or the 0600 file) and check them.
    A missing or unreadable secret is a FAIL of the first check, not an exception."""
    chosen = registry.get(provider)  # ConfigError for an unknown provider
    try:
        # Only a provider whose options have a session file signs in with one (ChatGPT).
        if session_file and "session_file" not in chosen.backup_options:
            raise ConfigError(f"--session-file signs in to ChatGPT only, not to {provider}")
        session = {"session_file": session_file} if session_file else {}
        settings = chosen.settings_from_env(token_file, **session)
    except ConfigError as exc:
        report = DoctorReport(provider, "(not configured)")
        report.checks.append(Check(chosen.secret, FAIL, str(exc), CONFIG))
        return report
    checked: DoctorReport = await chosen.run_doctor(
        settings,
        token_source="the file given" if token_file else chosen.secret_env,
        policy=policy,
        timeout_seconds=timeout_seconds,
        now=now,
    )
    return checked
