"""API keys for ``archiver serve``: created once, shown once, stored only as a hash.

A key is 32 random bytes (``secrets.token_urlsafe``) with a readable prefix. With that much
entropy a plain sha256 is enough (no salt, no slow hash: nobody can brute-force 256 bits), and
it lets a revoked or unknown key be rejected without ever storing the key itself. Checking a
presented key compares its hash against every active key's hash with ``hmac.compare_digest``
and never stops early, so timing tells nothing about which bytes matched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlite_utils

from archiver.errors import ConfigError
from archiver.store import transaction
from archiver.timeutil import utc_now_iso

KEY_PREFIX = "ak_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    is_admin: bool
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def add_key(db: sqlite_utils.Database, name: str, *, admin: bool = False) -> str:
    """Create a key named ``name``; return the key (the only time it exists outside a client)."""
    if not _NAME.fullmatch(name):  # fullmatch: "$" alone would let a trailing newline in
        raise ConfigError(
            "a key name is 1-64 letters, digits, '_', '.', '@' or '-', starting with a letter or digit"
        )
    key = new_key()
    with transaction(db) as conn:
        found = conn.execute(
            "SELECT id, revoked_at FROM api_keys WHERE name = ?", [name]
        ).fetchone()
        if found is not None and found[1] is None:
            raise ConfigError(
                f"a key named {name!r} exists already (revoke it first, or pick another name)"
            )
        if found is not None:
            # The revoked key keeps its row (gateway_exchanges name it) under a name no new
            # key can take ('~' is not allowed in names), and frees its own.
            conn.execute(
                "UPDATE api_keys SET name = ? WHERE id = ?", [f"{name}~{found[0]}", found[0]]
            )
        conn.execute(
            "INSERT INTO api_keys (name, key_sha256, is_admin, created_at) VALUES (?, ?, ?, ?)",
            [name, key_hash(key), int(admin), utc_now_iso()],
        )
    return key


def list_keys(db: sqlite_utils.Database) -> list[ApiKey]:
    cursor = db.execute(
        "SELECT id, name, is_admin, created_at, last_used_at, revoked_at FROM api_keys ORDER BY id"
    )
    return [ApiKey(i, n, bool(a), c, u, r) for i, n, a, c, u, r in cursor]


def revoke_key(db: sqlite_utils.Database, name: str) -> None:
    with transaction(db) as conn:
        cursor = conn.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
            [utc_now_iso(), name],
        )
    if cursor.rowcount == 0:
        known = db.execute("SELECT 1 FROM api_keys WHERE name = ?", [name]).fetchone()
        raise ConfigError(f"key {name!r} is already revoked" if known else f"no key named {name!r}")


def find_key(db: sqlite_utils.Database, presented: str) -> ApiKey | None:
    """The active key whose hash matches ``presented``, compared in constant time against every
    active key (read from the database each time, so ``keys revoke`` acts on a running server)."""
    wanted = key_hash(presented).encode()
    found: ApiKey | None = None
    cursor = db.execute(
        "SELECT id, name, is_admin, created_at, last_used_at, revoked_at, key_sha256 "
        "FROM api_keys WHERE revoked_at IS NULL"
    )
    for ident, name, admin, created, used, revoked, stored in cursor.fetchall():
        if hmac.compare_digest(wanted, str(stored).encode()):  # no early exit: check them all
            found = ApiKey(ident, name, bool(admin), created, used, revoked)
    return found


def touch_key(db: sqlite_utils.Database, key_id: int) -> None:
    with transaction(db) as conn:
        conn.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", [utc_now_iso(), key_id])


def presented_key(authorization: str | None) -> str | None:
    """``Bearer <key>``, or the bare key as seed 004's clients sent their token."""
    if not authorization:
        return None
    value = authorization.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None


class KeyRates:
    """A token bucket per key: ``per_minute`` requests on average, bursts of ``burst``. In memory:
    the point is to stop one client from filling the account's queue, not accounting."""

    def __init__(
        self,
        per_minute: float | None,
        burst: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.rate = None if not per_minute else per_minute / 60.0
        self.burst = max(1, burst)
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}

    def take(self, key_id: int) -> float | None:
        """None if the request may go; else seconds until it could."""
        if self.rate is None:
            return None
        now = self.clock()
        tokens, last = self._buckets.get(key_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key_id] = (tokens - 1.0, now)
            return None
        self._buckets[key_id] = (tokens, now)
        return (1.0 - tokens) / self.rate
