"""``archiver doctor --provider chatgpt``: the token (or session cookie), the base URL, the
account's status, models, beta features and limits, and the server's clock."""

from __future__ import annotations

from collections.abc import Callable

from archiver.doctor import (
    CONFIG,
    FAIL,
    OK,
    SKIP,
    WARN,
    Check,
    DoctorReport,
    DoctorRun,
    clock_check,
    token_check,
)
from archiver.providers.chatgpt.account import AccountClient
from archiver.providers.chatgpt.account_parse import (
    ACCOUNTS_CHECK,
    BETA_FEATURES,
    CONVERSATION_LIMIT,
    MODELS,
    AccountEndpoint,
    parse_account_check,
    parse_beta_features,
    parse_conversation_limit,
    parse_models,
)
from archiver.providers.chatgpt.client import ChatGPTClient, ChatGPTSettings
from archiver.providers.chatgpt.signed import ChatGPTHttp, open_chatgpt_session
from archiver.providers.chatgpt.snapshots import query_endpoint
from archiver.transport.ratelimit import RateLimiter

URL_HINT = "it should end in /backend-api"


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


async def check_chatgpt(settings: ChatGPTSettings, run: DoctorRun) -> DoctorReport:
    report = DoctorReport.at("chatgpt", settings.base_url, url_hint=URL_HINT)
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
            report.add_failure(first.error, "account", first=True)
        if any(check.status == FAIL for check in report.checks):
            # The others would fail the same way: say so once.
            for _, name, _ in views:
                report.checks.append(Check(name, SKIP, "needs a working accounts/check"))
            return report
        for endpoint, name, judge in views:
            result = await query_endpoint(client, endpoint)
            if result.error is not None:
                report.add_failure(result.error, name, first=False)
            else:
                assert result.response is not None
                report.checks.append(judge(result.response.data))
    return report


check = check_chatgpt  # the name the contract gives it (archiver/providers/modules.py)
