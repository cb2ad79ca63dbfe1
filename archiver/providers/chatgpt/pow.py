"""Sans-I/O: the sentinel's proof of work (docs/protocol/chatgpt.md, "Sending a prompt, 2026").

The browser takes a list of facts about itself (``config``), and for nonce = 0, 1, ... encodes
``base64(json(config with the nonce))`` until ``hex(hash(seed + data))`` starts with a value no
greater than the server's ``difficulty``. Two hash forms are in use, told apart by a suffix:

- SHA3-512, answered ``gAAAAAB<data>``;
- a 32-bit FNV-1a, answered ``gAAAAAB<data>~S`` (the browser SDK since late 2026).

The search is bounded (``MAX_TRIES``, as the browser's own loop is): a difficulty that cannot be
met within it is an error that names it, never an endless loop. A difficulty whose expected
number of tries is beyond the bound is refused before any hashing, so that it fails in
milliseconds. The solver is plain CPU work: callers run it in a thread (``solve_in_thread``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import string
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from archiver.errors import ChallengeError

SHA3 = "sha3"
FNV = "fnv"
FORMS = (SHA3, FNV)
MAX_TRIES = 500_000
ANSWER_PREFIX = "gAAAAAB"
REQUIREMENTS_PREFIX = "gAAAAAC"
FNV_SUFFIX = "~S"
NONCE_INDEX = 3  # where the browser puts the nonce in its config list
ELAPSED_INDEX = 9  # ... and the milliseconds the search has taken so far
_CHECK_CANCEL_EVERY = 4096

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


class ProofOfWorkError(ChallengeError):
    """The server asked for a proof of work archiver cannot (or will not) produce: a run stops,
    since every other prompt would meet the same demand."""


def fnv1a_32(data: bytes) -> int:
    """The 32-bit FNV-1a hash (offset basis 2166136261, prime 16777619)."""
    value = _FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return value


def digest_hex(form: str, text: str) -> str:
    """Lower-case hex of ``text``'s hash in the given form (FNV zero-padded to 8 digits)."""
    raw = text.encode("utf-8")
    if form == SHA3:
        return hashlib.sha3_512(raw).hexdigest()
    if form == FNV:
        return f"{fnv1a_32(raw):08x}"
    raise ValueError(f"unknown proof-of-work form {form!r}")


def meets(digest: str, difficulty: str) -> bool:
    """The acceptance rule: the digest's first ``len(difficulty)`` hex digits, as a string, are
    no greater than the difficulty."""
    return digest[: len(difficulty)] <= difficulty


def check_difficulty(difficulty: Any) -> str:
    """The difficulty as lower-case hex; ProofOfWorkError when it is not hex at all."""
    if not isinstance(difficulty, str) or not difficulty:
        raise ProofOfWorkError(
            f"the server asked for a proof of work with difficulty {difficulty!r}, which is not a hex string"
        )
    lowered = difficulty.strip().lower()
    if not lowered or any(c not in string.hexdigits for c in lowered):
        raise ProofOfWorkError(
            f"the server asked for a proof of work at difficulty {difficulty[:40]!r}, "
            "which is not a hex string"
        )
    return lowered


def expected_tries(difficulty: str, form: str = SHA3) -> float:
    """The mean number of tries a difficulty takes: a digest prefix of L hex digits is uniform,
    so it passes with probability (value + 1) / 16**L."""
    length = len(difficulty) if form == SHA3 else min(len(difficulty), 8)
    value = int(difficulty[:length], 16)
    return 16**length / (value + 1)


def answer_token(data: str, form: str) -> str:
    return ANSWER_PREFIX + data + (FNV_SUFFIX if form == FNV else "")


def encode_config(config: Sequence[Any]) -> str:
    """base64 of the config as the browser's JSON.stringify writes it (no spaces)."""
    text = json.dumps(list(config), separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def requirements_token(config: Sequence[Any]) -> str:
    """The ``p`` of ``sentinel/chat-requirements``: the config, not solved."""
    return REQUIREMENTS_PREFIX + encode_config(config)


@dataclass(frozen=True)
class Proof:
    answer: str  # the openai-sentinel-proof-token header
    tries: int
    form: str
    seconds: float


def _template(config: Sequence[Any]) -> tuple[str, str, str]:
    """The config's JSON cut around the nonce and the elapsed milliseconds, so that a try only
    joins three strings and two numbers instead of serialising the whole list again."""
    values = list(config)
    while len(values) <= ELAPSED_INDEX:
        values.append(0)
    marker_n, marker_e = "\x00nonce\x00", "\x00elapsed\x00"
    values[NONCE_INDEX], values[ELAPSED_INDEX] = marker_n, marker_e
    text = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
    head, _, rest = text.partition(json.dumps(marker_n))
    middle, _, tail = rest.partition(json.dumps(marker_e))
    return head, middle, tail


def solve(
    seed: str,
    difficulty: str,
    config: Sequence[Any],
    *,
    form: str = SHA3,
    max_tries: int = MAX_TRIES,
    cancel: threading.Event | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Proof:
    """Find an answer; ProofOfWorkError naming the difficulty when it is not met within
    ``max_tries`` (or obviously cannot be, before any work)."""
    if form not in FORMS:
        raise ValueError(f"unknown proof-of-work form {form!r}")
    wanted = check_difficulty(difficulty)
    mean = expected_tries(wanted, form)
    if mean > max_tries:
        raise ProofOfWorkError(
            f"the server asked for a proof of work at difficulty {wanted}, which takes about "
            f"{mean:,.0f} tries on average: beyond the bound of {max_tries:,} a browser "
            "also keeps to (the account or this client is distrusted; try again later)"
        )
    head, middle, tail = _template(config)
    seed_bytes = seed.encode("utf-8")
    length = len(wanted)
    started = clock()
    sha3 = form == SHA3
    for nonce in range(max_tries):
        if cancel is not None and nonce % _CHECK_CANCEL_EVERY == 0 and cancel.is_set():
            raise asyncio.CancelledError
        elapsed = int((clock() - started) * 1000)
        text = f"{head}{nonce}{middle}{elapsed}{tail}"
        data = base64.b64encode(text.encode("utf-8"))
        if sha3:
            digest = hashlib.sha3_512(seed_bytes + data).hexdigest()
        else:
            digest = f"{fnv1a_32(seed_bytes + data):08x}"
        if digest[:length] <= wanted:
            return Proof(
                answer_token(data.decode("ascii"), form),
                tries=nonce + 1,
                form=form,
                seconds=clock() - started,
            )
    raise ProofOfWorkError(
        f"the proof of work at difficulty {wanted} was not solved within {max_tries:,} tries "
        "(the bound a browser keeps to); try again later"
    )


async def solve_in_thread(
    seed: str,
    difficulty: str,
    config: Sequence[Any],
    *,
    form: str = SHA3,
    max_tries: int = MAX_TRIES,
) -> Proof:
    """``solve`` off the event loop; a cancelled caller stops the thread within a few
    thousand tries (the bound keeps it short anyway)."""
    cancel = threading.Event()
    try:
        return await asyncio.to_thread(
            solve, seed, difficulty, config, form=form, max_tries=max_tries, cancel=cancel
        )
    except asyncio.CancelledError:
        cancel.set()
        raise


def browser_config(
    user_agent: str,
    *,
    language: str = "en-US",
    now: float | None = None,
    screen: int = 3000,
    memory: int = 4294705152,
) -> list[Any]:
    """The browser facts the proof is built over, in the order the web app lists them. Only
    their shape matters to the server; they are the configured browser's, not invented ones."""
    moment = time.gmtime(now if now is not None else time.time())
    date = time.strftime("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)", moment)
    primary = language.split(",")[0].strip() or "en-US"
    base = primary.split("-")[0]
    languages = primary if base == primary else f"{primary},{base}"
    return [screen, date, memory, 0, user_agent, "", "", primary, languages, 0]
