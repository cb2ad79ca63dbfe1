"""Looking like the browser the session cookie came from (docs/protocol/chatgpt.md).

Cloudflare answers a script's default User-Agent (``Python/3.x aiohttp/3.x``) with a challenge
page, so every ChatGPT request carries a current browser's headers. The ``oai-device-id`` is
made once per account and kept in ``account_state``: it is not a secret (the browser's
``oai-did`` cookie), and a device that changed every night would look odd.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils

from archiver.config import has_control_character
from archiver.errors import ConfigError
from archiver.providers.chatgpt.options import PROVIDER
from archiver.store.db import transaction
from archiver.timeutil import utc_now_iso
from archiver.transport.request import CHROME_USER_AGENT

# Chrome, the most common browser the cookie is copied from.
DEFAULT_USER_AGENT = CHROME_USER_AGENT
DEFAULT_LANGUAGE = "en-US"
DEVICE_ID_KEY = "oai-device-id"


@dataclass(frozen=True)
class BrowserProfile:
    user_agent: str = DEFAULT_USER_AGENT
    language: str = DEFAULT_LANGUAGE

    @classmethod
    def from_env(
        cls, *, user_agent: str | None = None, environ: Mapping[str, str] | None = None
    ) -> BrowserProfile:
        """``--user-agent`` wins over CHATGPT_USER_AGENT; CHATGPT_LANGUAGE sets oai-language."""
        env = environ if environ is not None else os.environ
        agent = (user_agent or env.get("CHATGPT_USER_AGENT") or DEFAULT_USER_AGENT).strip()
        language = (env.get("CHATGPT_LANGUAGE") or DEFAULT_LANGUAGE).strip()
        for name, value in (("user agent", agent), ("language", language)):
            if not value or has_control_character(value):
                raise ConfigError(f"the {name} must be one non-empty line")
        return cls(user_agent=agent, language=language)

    def headers(self, origin: str, *, device_id: str | None = None) -> dict[str, str]:
        primary = self.language.split(",")[0].strip()
        base = primary.split("-")[0]
        headers = {
            "User-Agent": self.user_agent,
            "Origin": origin,
            "Referer": origin + "/",
            "Accept-Language": f"{primary},{base};q=0.9" if base != primary else primary,
            "oai-language": primary,
        }
        if device_id:
            headers["oai-device-id"] = device_id
        return headers


def device_id_for(db: sqlite_utils.Database, account: str) -> str:
    """The account's ``oai-device-id``, made (a random uuid4) and kept on first use."""
    row = db.execute(
        "SELECT value FROM account_state WHERE provider = ? AND account = ? AND key = ?",
        [PROVIDER, account, DEVICE_ID_KEY],
    ).fetchone()
    if row and row[0]:
        return str(row[0])
    made = str(uuid.uuid4())
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO account_state (provider, account, key, value, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (provider, account, key) DO NOTHING",
            [PROVIDER, account, DEVICE_ID_KEY, made, utc_now_iso()],
        )
    row = db.execute(
        "SELECT value FROM account_state WHERE provider = ? AND account = ? AND key = ?",
        [PROVIDER, account, DEVICE_ID_KEY],
    ).fetchone()
    return str(row[0])


def with_device_id(db: sqlite_utils.Database, settings: Any) -> Any:
    """``settings`` carrying the account's kept ``oai-device-id`` (made on first use)."""
    if getattr(settings, "device_id", None) is not None:
        return settings
    return replace(settings, device_id=device_id_for(db, settings.account))
