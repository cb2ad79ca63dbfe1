"""ChatGPT ``backend-api``, the account side (seed 003): requests and answers as plain data.

No I/O here: the account tools beside it send the requests through the shared HttpClient and hands
the answers to these functions. Every parser accepts the shapes seen over the years and
returns ``None`` (or empty) for what an answer does not say, rather than failing: the callers
decide whether a missing field is a problem."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from archiver.timeutil import to_iso


@dataclass(frozen=True)
class AccountEndpoint:
    """One GET whose answer is recorded in ``account_snapshots``."""

    name: str  # the value of account_snapshots.endpoint
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    off_root: bool = False  # hangs off the host root, not off backend-api


ACCOUNTS_CHECK = AccountEndpoint("accounts/check", "accounts/check")
MODELS = AccountEndpoint("models", "models", {"history_and_training_disabled": "false"})
BETA_FEATURES = AccountEndpoint("settings/beta_features", "settings/beta_features")
CONVERSATION_LIMIT = AccountEndpoint(
    "public-api/conversation_limit", "public-api/conversation_limit", off_root=True
)
# accounts/check first: it is the cheapest way to learn the token was refused.
SNAPSHOT_ENDPOINTS = (ACCOUNTS_CHECK, MODELS, BETA_FEATURES, CONVERSATION_LIMIT)

SHARED_PATH = "shared_conversations"
SHARED_LIMIT = 50  # the page size the server uses when none is asked for
EXPORT_PATH = "accounts/data_export"
PLACEHOLDER_TITLES = frozenset({"", "new chat"})


# --- accounts/check ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountInfo:
    plan: str | None  # chatgptfreeplan, chatgptplusplan, ... (or plan_type: free, plus, team)
    paid: bool | None
    expires_at: str | None  # ISO UTC
    features: tuple[str, ...]
    account_ids: tuple[str, ...]  # workspaces the token can act for (newer answers only)

    @property
    def recognised(self) -> bool:
        return self.plan is not None or self.paid is not None or bool(self.features)


def parse_account_check(payload: Any) -> AccountInfo:
    """Both shapes: 2023 ``{"account_plan": {...}, "features": [...]}`` and the later
    ``{"accounts": {"default": {"account": {...}, "entitlement": {...}, "features": [...]}}}``."""
    if not isinstance(payload, dict):
        return AccountInfo(None, None, None, (), ())
    plan_block = payload.get("account_plan")
    if isinstance(plan_block, dict):
        return AccountInfo(
            plan=_str(plan_block.get("subscription_plan")),
            paid=_bool(plan_block.get("is_paid_subscription_active")),
            expires_at=to_iso(plan_block.get("subscription_expires_at_timestamp")),
            features=_strings(payload.get("features")),
            account_ids=(),
        )
    accounts = payload.get("accounts")
    if isinstance(accounts, dict) and accounts:
        ordering = [key for key in _strings(payload.get("account_ordering")) if key in accounts]
        chosen = accounts.get("default") or accounts.get(ordering[0] if ordering else "") or {}
        if not isinstance(chosen, dict):
            chosen = {}
        account = _dict(chosen.get("account"))
        entitlement = _dict(chosen.get("entitlement"))
        ids = []
        for entry in accounts.values():
            inner = entry.get("account") if isinstance(entry, dict) else None
            if isinstance(inner, dict) and isinstance(inner.get("account_id"), str):
                ids.append(inner["account_id"])
        return AccountInfo(
            plan=_str(entitlement.get("subscription_plan")) or _str(account.get("plan_type")),
            paid=_bool(entitlement.get("has_active_subscription")),
            expires_at=to_iso(entitlement.get("expires_at")),
            features=_strings(chosen.get("features")),
            account_ids=tuple(dict.fromkeys(ids)),
        )
    return AccountInfo(None, None, None, _strings(payload.get("features")), ())


# --- models, beta features, limits --------------------------------------------------------------


def parse_models(payload: Any) -> list[str]:
    """Model slugs in the order the server lists them."""
    models = payload.get("models") if isinstance(payload, dict) else None
    if not isinstance(models, list):
        return []
    return [m["slug"] for m in models if isinstance(m, dict) and isinstance(m.get("slug"), str)]


def parse_beta_features(payload: Any) -> dict[str, bool]:
    if not isinstance(payload, dict):
        return {}
    return {name: value for name, value in payload.items() if isinstance(value, bool)}


@dataclass(frozen=True)
class ConversationLimit:
    message_cap: float | None
    window_minutes: float | None

    def describe(self) -> str:
        if self.message_cap is None:
            return "no message cap reported"
        cap = f"{self.message_cap:g} messages"
        return f"{cap} every {self.window_minutes:g} minutes" if self.window_minutes else cap


def parse_conversation_limit(payload: Any) -> ConversationLimit | None:
    if not isinstance(payload, dict):
        return None
    return ConversationLimit(
        _number(payload.get("message_cap")), _number(payload.get("message_cap_window"))
    )


# --- shared links -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SharedLink:
    id: str  # the share id (the public URL's last segment), not the conversation id
    conversation_id: str | None
    title: str | None
    create_time: str | None
    update_time: str | None
    is_anonymous: bool | None
    raw: dict[str, Any]


def shared_params(offset: int, limit: int = SHARED_LIMIT) -> dict[str, str]:
    return {"order": "created", "offset": str(offset), "limit": str(limit)}


def parse_shared_page(payload: Any) -> list[SharedLink]:
    """One ``shared_conversations`` page. Items without an id are skipped."""
    items = payload.get("items") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise ValueError("the shared link list answered an unexpected shape")
    links = []
    for raw in items:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            continue
        links.append(
            SharedLink(
                id=raw["id"],
                conversation_id=_str(raw.get("conversation_id")),
                title=_str(raw.get("title")),
                create_time=to_iso(raw.get("create_time")),
                update_time=to_iso(raw.get("update_time")),
                is_anonymous=_bool(raw.get("is_anonymous")),
                raw=raw,
            )
        )
    return links


def share_url(root: str, share_id: str) -> str:
    """The public address of a shared link, on the host the base URL points at."""
    return f"{root.rstrip('/')}/share/{share_id}"


# --- titles -------------------------------------------------------------------------------------


def is_placeholder_title(title: str | None) -> bool:
    return title is None or title.strip().lower() in PLACEHOLDER_TITLES


def gen_title_body(message_id: str) -> dict[str, str]:
    return {"message_id": message_id}


def title_patch_body(title: str) -> dict[str, str]:
    return {"title": title}


@dataclass(frozen=True)
class GenTitleAnswer:
    title: str | None
    already_titled: bool  # the server kept the title it had (``title`` is that title, if said)


_ALREADY = re.compile(r"already has (?:a )?title(?:\s+'(?P<title>.*)')?", re.DOTALL)


def parse_gen_title(payload: Any) -> GenTitleAnswer:
    """``{"title": "..."}``, or ``{"message": "Conversation <id> already has title '...'"}``."""
    if isinstance(payload, dict):
        title = payload.get("title")
        if isinstance(title, str) and title.strip():
            return GenTitleAnswer(title.strip(), already_titled=False)
        message = payload.get("message")
        if isinstance(message, str):
            match = _ALREADY.search(message)
            if match:
                return GenTitleAnswer(match["title"], already_titled=True)
    return GenTitleAnswer(None, already_titled=False)


def title_from_prompt(prompt: str | None, *, max_length: int = 60) -> str | None:
    """A fallback title: the first line of the first prompt, shortened on a word boundary."""
    if not prompt:
        return None
    line = next((ln.strip() for ln in prompt.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    if not line:
        return None
    if len(line) <= max_length:
        return line
    cut = line[: max_length - 1].rsplit(" ", 1)[0] or line[: max_length - 1]
    return cut.rstrip(" ,.;:") + "…"


def parse_success(payload: Any) -> bool:
    """PATCH ``conversation/{id}`` answers ``{"success": true}``."""
    return isinstance(payload, dict) and payload.get("success") is True


# --- export requests ----------------------------------------------------------------------------


def parse_export_status(payload: Any) -> str | None:
    """``{"status": "queued"}``: the export arrives by e-mail."""
    status = payload.get("status") if isinstance(payload, dict) else None
    return status if isinstance(status, str) else None


# --- clock and token ----------------------------------------------------------------------------


# --- small coercions ----------------------------------------------------------------------------


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))
