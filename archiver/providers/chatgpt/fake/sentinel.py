"""The sentinel a 2026 ChatGPT account sends through (docs/protocol/chatgpt.md): requirements
tokens (single use), the proof of work in both hash forms, Turnstile, and the refusals.

The checker here is written apart from the client's solver (``providers/chatgpt/pow.py``) on
purpose: the tests verify one against the other, so a mistake shared by both would have to be
made twice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from archiver.providers.chatgpt.fake.world import ChatGPTWorld, world_of

API = "/backend-api"
UNUSUAL = (
    "Unusual activity has been detected from your device. Try again later. (8f2c1e0a-emulator)"
)
TOKEN_LIFETIME_S = 540.0


def fnv1a(data: bytes) -> int:
    h = 2166136261
    for b in data:
        h ^= b
        h = (h * 16777619) % 4294967296
    return h


def proof_ok(answer: str, seed: str, difficulty: str, forms: str) -> bool:
    """Check an ``openai-sentinel-proof-token``: ``gAAAAAB<base64 JSON list>`` (SHA3-512) or the
    same with ``~S`` (FNV-1a 32), accepted when the hash of seed+data, in hex, starts with a
    value no greater than ``difficulty``."""
    if not answer.startswith("gAAAAAB"):
        return False
    data = answer[len("gAAAAAB") :]
    fnv = data.endswith("~S")
    if fnv:
        data = data[: -len("~S")]
    if (fnv and forms == "sha3") or (not fnv and forms == "fnv"):
        return False
    try:
        config = json.loads(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False
    if not isinstance(config, list) or len(config) < 4:
        return False
    raw = (seed + data).encode()
    digest = format(fnv1a(raw), "08x") if fnv else hashlib.sha3_512(raw).hexdigest()
    return digest[: len(difficulty)] <= difficulty.lower()


@dataclass
class Issued:
    seed: str
    difficulty: str
    expires: float
    used: bool = False
    prepare_token: str | None = None


def _requirements(world: ChatGPTWorld) -> tuple[str, Issued, dict[str, Any]]:
    config = world.config
    token = "gAAAAAB" + secrets.token_urlsafe(24)  # an opaque string, like upstream's
    issued = Issued(
        seed=f"{secrets.randbelow(10**16) / 10**16:.16f}",
        difficulty=config.pow_difficulty,
        expires=time.time() + TOKEN_LIFETIME_S,
    )
    body: dict[str, Any] = {
        "persona": "chatgpt-paid",
        "expire_after": int(TOKEN_LIFETIME_S),
        "proofofwork": {
            "required": config.pow_difficulty != "",
            "seed": issued.seed,
            "difficulty": config.pow_difficulty,
        },
        "turnstile": {"required": config.turnstile != "off", "dx": "emulated-dx"},
        "so": {"required": False},
    }
    return token, issued, body


def _good_p(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and isinstance(body.get("p"), str)
        and body["p"].startswith("gAAAAAC")
    )


async def _body(request: web.Request) -> Any:
    try:
        return await request.json()
    except (ValueError, ConnectionResetError):  # a client gone mid-body (killed)
        return None


def _bad(detail: str, status: int = 400) -> web.Response:
    return web.json_response({"detail": detail}, status=status)


async def chat_requirements(request: web.Request) -> web.Response:
    world = world_of(request)
    if world.config.sentinel_form == "prepare":
        return web.json_response({"detail": "Not Found"}, status=404)
    if not _good_p(await _body(request)):
        return _bad("Invalid requirements request")
    token, issued, body = _requirements(world)
    with world.lock:
        world.sentinel_tokens[token] = issued
        world.counters["sentinel_issued"] += 1
    return web.json_response({**body, "token": token})


async def prepare(request: web.Request) -> web.Response:
    world = world_of(request)
    if world.config.sentinel_form != "prepare":
        return web.json_response({"detail": "Not Found"}, status=404)
    if not _good_p(await _body(request)):
        return _bad("Invalid requirements request")
    token, issued, body = _requirements(world)
    issued.prepare_token = "prep_" + secrets.token_urlsafe(16)
    with world.lock:
        world.prepared[issued.prepare_token] = (token, issued)
    return web.json_response({**body, "prepare_token": issued.prepare_token})


async def finalize(request: web.Request) -> web.Response:
    world = world_of(request)
    if world.config.sentinel_form != "prepare":
        return web.json_response({"detail": "Not Found"}, status=404)
    body = await _body(request)
    ref = body.get("prepare_token") if isinstance(body, dict) else None
    with world.lock:
        found = world.prepared.pop(ref, None) if isinstance(ref, str) else None
    if found is None:
        return _bad(UNUSUAL, 403)
    token, issued = found
    answer = body.get("proofofwork") if isinstance(body, dict) else None
    if issued.difficulty and not (
        isinstance(answer, str)
        and proof_ok(answer, issued.seed, issued.difficulty, world.config.pow_forms)
    ):
        with world.lock:
            world.counters["sentinel_refused"] += 1
        return _bad(UNUSUAL, 403)
    issued.difficulty = ""  # proven here: the send needs no proof header
    with world.lock:
        world.sentinel_tokens[token] = issued
        world.counters["sentinel_issued"] += 1
    return web.json_response({"token": token, "expire_after": int(TOKEN_LIFETIME_S)})


async def conduit_prepare(request: web.Request) -> web.Response:
    """``f/conversation/prepare``: optional for clients; answers a conduit token."""
    return web.json_response({"status": "ok", "conduit_token": "conduit-" + secrets.token_hex(8)})


def refusal(request: web.Request, world: ChatGPTWorld) -> web.Response | None:
    """Why a send to ``f/conversation`` is refused (403 Unusual activity), or None. Spends the
    requirements token: it is single use, refused or not."""
    config = world.config
    headers = request.headers
    token = headers.get("openai-sentinel-chat-requirements-token", "")
    with world.lock:
        issued = world.sentinel_tokens.get(token)
        reused = issued is not None and issued.used
        if issued is not None:
            issued.used = True
        forced = world.unusual_left > 0
        if forced:
            world.unusual_left -= 1
    reason = None
    if forced:
        reason = "forced"
    elif issued is None:
        reason = "missing or unknown requirements token"
    elif reused:
        reason = "requirements token used twice"
    elif issued.expires < time.time():
        reason = "requirements token expired"
    elif issued.difficulty and not proof_ok(
        headers.get("openai-sentinel-proof-token", ""),
        issued.seed,
        issued.difficulty,
        config.pow_forms,
    ):
        reason = "bad proof of work"
    elif config.turnstile == "insist" and not headers.get("openai-sentinel-turnstile-token"):
        reason = "turnstile insisted on"
    elif not headers.get("oai-device-id"):
        reason = "no oai-device-id"
    if reason is None:
        return None
    with world.lock:
        world.counters["sentinel_refused"] += 1
        world.refusal_reasons.append(reason)
    return _bad(UNUSUAL, 403)


def add_routes(app: web.Application) -> None:
    app.router.add_post(f"{API}/sentinel/chat-requirements", chat_requirements)
    app.router.add_post(f"{API}/sentinel/chat-requirements/prepare", prepare)
    app.router.add_post(f"{API}/sentinel/chat-requirements/finalize", finalize)
    app.router.add_post(f"{API}/f/conversation/prepare", conduit_prepare)
