"""Gemini's fake upstream for ``archiver emulator`` (``make demo``, end-to-end tests): the app
page and batchexecute's list (``MaZiqc``) and read (``hNvQHb``) RPCs, shaped as the published
captures are (docs/protocol/gemini.md), with the variants and failures as knobs.

Replies are framed as Google frames them (``)]}'``, UTF-16 lengths, JSON inside JSON), written
here independently of the client's parser. Generated chats carry drafts, thoughts, a Gem and
text outside the BMP, so that a client meets every shape; ``GeminiWorld.add_turn`` and
``regenerate`` change a chat behind a client's back (also ``/_emulator/gemini/...``).

The generated images the answers show are served here too (``/_emulator/gemini/images``), or
point at ``image_host``: a backup fetches their bytes offline, and must send them no cookie."""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from archiver.fakes import data
from archiver.fakes.state import STATE
from archiver.providers.gemini.options import BASE_URL_ENV, COOKIE_ENV

NAME = "gemini"
APP = "/app"
BATCH = "/_/BardChatUi/data/batchexecute"
MODELS = ("2.5 Flash", "3 Pro")
READ_ROUTE = "batchexecute hNvQHb"  # how the request log names a chat read (item_routes)
GEM_ID = "f643ca308dd6"
GEM_NAME = "Emulated tutor"
# Where generated images live in the world; a chat read rewrites it to ``image_host``, by
# default the emulator's own IMAGES route.
IMAGE_HOST = "https://lh3.googleusercontent.com/gg"
IMAGES = "/_emulator/gemini/images"
IMAGE_ROUTE = "gemini image"  # how the request log names an image fetch (item_routes)


@dataclass(frozen=True)
class GeminiEmulatorConfig:
    """``archiver emulator --set gemini.<key>=<value>``."""

    chats: int = 6
    pinned: int = 2  # the first chats are pinned (listed apart)
    psid: str = "emulator-psid"  # the __Secure-1PSID the emulator takes
    psidts: str = "emulator-psidts"  # and its __Secure-1PSIDTS
    list_page_cap: int = 4  # chats per list page, whatever the client asks
    read_page_cap: int = 3  # turns per read page, whatever the client asks
    redirect: str = "none"  # none | consent | sign_in: what GET /app answers
    reject_rpcs: bool = False  # every RPC answers reject code 7 (another account's cookie)
    stale_token_after: int = 0  # after N RPCs the page token rotates (400 xsrf), once
    throttle_reads: int = 0  # the first N reads answer BardErrorInfo 1096
    image_host: str | None = None  # where image URLs point (default: the emulator's IMAGES)
    refuse_images: int = 0  # the first N image requests answer 403 (wants a signed-in browser)


def chat_id(seed: int, index: int) -> str:
    return "c_" + hashlib.sha256(f"{seed}:gemini:{index}".encode()).hexdigest()[:16]


def _hex(*parts: object) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _pair(ts: float) -> list[int]:
    whole = int(ts)
    return [whole, round((ts - whole) * 1e6) * 1000]


def candidate(rc: str, text: str, *, thoughts: str | None, image: str | None) -> list[Any]:
    """A response candidate as the capture has it: 38 slots and more."""
    slots: list[Any] = [None] * 40
    slots[0] = rc
    slots[1] = [text]
    slots[2] = []
    slots[6] = True
    slots[8] = [2]
    slots[9] = "en"
    slots[12] = [None, None, None, None, None, None, [0], []]
    if image:
        slots[12][7] = [[[None, None, None, [None, None, None, image], "generated"]]]
    if thoughts:
        slots[37] = [[thoughts]]
    return slots


@dataclass
class Turn:
    rid: str
    prompt: str
    sent: float
    candidates: list[list[Any]]
    chosen: str
    model: str
    parent: list[Any] | None  # [c_id, previous r_id, the candidate it continued from]
    gem: bool = False

    def wire(self, cid: str) -> list[Any]:
        answer: list[Any] = [None] * 22
        answer[0] = self.candidates
        answer[1] = [["shown", 4]]
        answer[3] = self.chosen
        answer[8] = "GB"
        answer[9] = True
        answer[10] = False
        answer[21] = self.model
        turn: list[Any] = [
            [cid, self.rid],
            self.parent,
            [[self.prompt], 2, None, 0, _hex(self.rid, "p"), 0],
            answer,
            _pair(self.sent),
        ]
        if self.gem:
            turn += [None, None, GEM_ID, None, [GEM_NAME, "", "A patient tutor"]]
            turn.append([None, [GEM_NAME, ""], ["Explain step by step."]])
        return turn


@dataclass
class Chat:
    id: str
    title: str
    pinned: bool
    turns: list[Turn] = field(default_factory=list)  # oldest first
    deleted: bool = False

    @property
    def updated(self) -> float:
        return self.turns[-1].sent if self.turns else 0.0

    def row(self) -> list[Any]:
        row: list[Any] = [None] * 22
        row[0] = self.id
        row[1] = self.title
        row[2] = True if self.pinned else None
        row[5] = _pair(self.updated)
        row[9] = 2
        row[21] = self.turns[-1].chosen if self.turns else None
        return row


class GeminiWorld:
    """Every chat the fake account has, and what the fake server counts."""

    def __init__(self, config: GeminiEmulatorConfig, seed: int = 0):
        self.config = config
        self.seed = seed
        self.at = "emulator-at-0"
        self.rpcs = 0
        self.reads = 0
        self.rotated = False
        self.cookies_elsewhere = 0  # visits to the consent/sign-in pages with a Cookie
        self.image_requests = 0
        self.chats: dict[str, Chat] = {}
        for index in range(config.chats):
            self._generate(index)

    def _generate(self, index: int) -> None:
        title, created, _ = data.listed_chat(
            f"{self.seed}:gemini", index, first_day=700, spacing=5_000
        )
        chat = Chat(chat_id(self.seed, index), title, index < self.config.pinned)
        self.chats[chat.id] = chat
        rng = random.Random(f"{self.seed}:gemini:{index}:turns")
        for number in range(1 + index % 4):
            prompt = data.sentence(rng, 4, 9)
            if (index + number) % 5 == 2:
                prompt += " — in Japanese please 日本語で 🙂"
            drafts = 3 if (index + number) % 3 == 1 else 1
            self.add_turn(
                chat.id,
                prompt,
                when=created + number * 600 + rng.uniform(0, 60),
                drafts=drafts,
                thoughts=index % 2 == 0,
                gem=index % 7 == 3,
            )

    def add_turn(
        self,
        cid: str,
        prompt: str,
        *,
        when: float | None = None,
        drafts: int = 1,
        thoughts: bool = False,
        gem: bool = False,
    ) -> Turn:
        """A new turn at the end of the chat (the time now unless given)."""
        chat = self.chats[cid]
        sent = when if when is not None else max(time.time(), chat.updated + 1)
        rid = "r_" + _hex(self.seed, cid, len(chat.turns), prompt)
        parent = None
        if chat.turns:
            last = chat.turns[-1]
            parent = [cid, last.rid, last.chosen]
        candidates = []
        for draft in range(drafts):
            rc = "rc_" + _hex(rid, draft)
            text = data.answer_text(f"{prompt} (draft {draft + 1})")
            image = f"{IMAGE_HOST}/{_hex(rc)}" if draft == 1 else None
            candidates.append(
                candidate(
                    rc,
                    text,
                    thoughts=f"Thinking about: {prompt}" if thoughts else None,
                    image=image,
                )
            )
        chosen = candidates[-1][0]
        turn = Turn(rid, prompt, sent, candidates, chosen, MODELS[len(chat.turns) % 2], parent, gem)
        chat.turns.append(turn)
        return turn

    def regenerate(self, cid: str) -> str:
        """One more draft of the last turn, now the one shown; the chat's time does not move
        (so only the list's latest candidate says it changed)."""
        turn = self.chats[cid].turns[-1]
        rc = "rc_" + _hex(turn.rid, "again", len(turn.candidates))
        turn.candidates.append(
            candidate(rc, data.answer_text(f"{turn.prompt} (again)"), thoughts=None, image=None)
        )
        turn.chosen = rc
        return rc

    def listing(self, pinned: bool) -> list[Chat]:
        chats = [c for c in self.chats.values() if not c.deleted and c.pinned == pinned]
        return sorted(chats, key=lambda c: c.updated, reverse=True)


def world(request: web.Request) -> GeminiWorld:
    state = request.app[STATE]
    return state.provider_state(NAME, lambda config: GeminiWorld(config, state.config.seed))


# --- framing, as Google writes it ------------------------------------------------------------


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def frame(envelopes: list[list[Any]]) -> str:
    """``)]}'``, a blank line, then ``<UTF-16 length>\\n<JSON>\\n`` chunks: the envelopes in
    one chunk, the bookkeeping in another, the closing ``e`` chunk last."""
    chunks = [envelopes, [["di", 59], ["af.httprm", 58, "-4830201374711802441", 12]]]
    out = ")]}'\n\n"
    for chunk in chunks:
        piece = "\n" + json.dumps(chunk, ensure_ascii=False) + "\n"
        out += str(_utf16_len(piece)) + piece
    closing = "\n" + json.dumps([["e", 4, None, None, _utf16_len(out)]]) + "\n"
    return out + str(_utf16_len(closing)) + closing


def _result(rpcid: str, result: Any) -> list[Any]:
    return ["wrb.fr", rpcid, json.dumps(result, ensure_ascii=False), None, None, None, "generic"]


def _error(rpcid: str, error: Any) -> list[Any]:
    return ["wrb.fr", rpcid, None, None, None, error, "generic"]


# --- routes -----------------------------------------------------------------------------------


def _signed_in(request: web.Request, config: GeminiEmulatorConfig) -> bool:
    cookies: dict[str, str] = {}
    for part in request.headers.get("Cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        cookies[name] = value
    return (
        cookies.get("__Secure-1PSID") == config.psid
        and cookies.get("__Secure-1PSIDTS") == config.psidts
    )


def _elsewhere(request: web.Request, path: str) -> str:
    """The emulator at another origin (127.0.0.1 and localhost are two hosts to a client):
    where its consent and sign-in pages stand in for consent.google.com and
    accounts.google.com, so that following the redirect stays on this machine."""
    host = "localhost" if request.url.host != "localhost" else "127.0.0.1"
    return f"{request.scheme}://{host}:{request.url.port}{path}?continue=/app"


async def app_page(request: web.Request) -> web.StreamResponse:
    config = request.app[STATE].config.provider(NAME)
    if config.redirect == "consent":
        raise web.HTTPFound(_elsewhere(request, "/consent/ml"))
    if config.redirect == "sign_in":
        raise web.HTTPFound(_elsewhere(request, "/ServiceLogin"))
    tokens = ""
    if _signed_in(request, config):
        globals_ = {
            "SNlM0e": world(request).at,
            "cfb2h": "boq_assistant-bard-web-server_20260801",
            "FdrFJe": "-1234567890",
            "TuX5cc": "en",
        }
        tokens = f"<script>window.WIZ_global_data = {json.dumps(globals_)};</script>"
    html = f"<!doctype html><html><head><title>Gemini</title>{tokens}</head><body></body></html>"
    return web.Response(text=html, content_type="text/html")


def _list(state: GeminiWorld, payload: list[Any]) -> Any:
    size = min(int(payload[0]), state.config.list_page_cap)
    offset = int(str(payload[1])[2:]) if isinstance(payload[1], str) else 0
    pinned = bool(payload[2][0]) if isinstance(payload[2], list) else False
    chats = state.listing(pinned)
    page = chats[offset : offset + size]
    if not chats:
        return []
    following = f"tC{offset + size:06d}" if offset + size < len(chats) else None
    return [None, following, [c.row() for c in page]]


def _read(state: GeminiWorld, payload: list[Any]) -> list[Any] | None:
    chat = state.chats.get(str(payload[0]))
    if chat is None or chat.deleted:
        return None
    size = min(int(payload[1]), state.config.read_page_cap)
    offset = int(str(payload[2])[2:]) if isinstance(payload[2], str) else 0
    newest_first = [t.wire(chat.id) for t in reversed(chat.turns)]
    following = f"tC{offset + size:06d}" if offset + size < len(newest_first) else None
    return [newest_first[offset : offset + size], following, None, []]


async def batchexecute(request: web.Request) -> web.Response:
    config = request.app[STATE].config.provider(NAME)
    state = world(request)
    form = parse_qs(await request.text())
    if form.get("at", [""])[0] != state.at:
        body = ")]}'\n\n" + json.dumps(
            [["er", None, None, None, None, 400, None, None, None, 3, [{"48448350": ["xsrf"]}]]]
        )
        return web.Response(status=400, text=body, content_type="application/json")
    calls = json.loads(form["f.req"][0])[0]
    envelopes: list[list[Any]] = []
    for rpcid, payload_text, _, _ in calls:
        state.rpcs += 1
        payload = json.loads(payload_text)
        if config.reject_rpcs or not _signed_in(request, config):
            envelopes.append(_error(rpcid, [7]))
        elif rpcid == "MaZiqc":
            envelopes.append(_result(rpcid, _list(state, payload)))
        elif rpcid == "hNvQHb":
            state.reads += 1
            request.app[STATE].log(request.method, request.path, READ_ROUTE, 200)
            if state.reads <= config.throttle_reads:
                envelopes.append(_error(rpcid, ["BardErrorInfo", 1096]))
                continue
            result = _read(state, payload)
            if result is not None:
                result = _images_at(request, config, result)
            if result is None:
                error = [5, None, [["type.googleapis.com/assistant.boq.bard.BardErrorInfo", [11]]]]
                envelopes.append(_error(rpcid, error))
            else:
                envelopes.append(_result(rpcid, result))
        else:
            envelopes.append(_error(rpcid, [3]))
    if config.stale_token_after and not state.rotated and state.rpcs >= config.stale_token_after:
        state.rotated = True
        state.at = "emulator-at-1"
    return web.Response(text=frame(envelopes), content_type="application/json")


def _images_at(request: web.Request, config: GeminiEmulatorConfig, result: list[Any]) -> list[Any]:
    """The read's image URLs pointing at ``image_host``, else back at this emulator, so that
    a backup fetches their bytes offline (or from another host, perhaps an unreachable one)."""
    host = config.image_host or f"{request.scheme}://{request.host}{IMAGES}"
    rewritten: list[Any] = json.loads(json.dumps(result).replace(IMAGE_HOST, host.rstrip("/")))
    return rewritten


async def image(request: web.Request) -> web.Response:
    """A small deterministic PNG-like body per name (bytes to store, not a real image). A
    request carrying a credential is refused (400): an image host is not the account."""
    config = request.app[STATE].config.provider(NAME)
    state = world(request)
    state.image_requests += 1
    status = 200
    if "Cookie" in request.headers or "Authorization" in request.headers:
        status = 400
    elif state.image_requests <= config.refuse_images:
        status = 403
    request.app[STATE].log(request.method, request.path, IMAGE_ROUTE, status)
    if status != 200:
        reason = "credential sent to an image host" if status == 400 else "Forbidden"
        return web.Response(status=status, text=reason, content_type="text/plain")
    return web.Response(body=image_bytes(request.match_info["name"]), content_type="image/png")


def image_bytes(name: str) -> bytes:
    """The bytes the emulator serves for the image ``name``."""
    return b"\x89PNG\r\n\x1a\n" + hashlib.sha256(name.encode()).digest() * 8


async def elsewhere_page(request: web.Request) -> web.Response:
    """The consent or sign-in page a redirect leads to; counts visits that carried a cookie
    (none should: a credential never follows a redirect to another host)."""
    if "Cookie" in request.headers:
        world(request).cookies_elsewhere += 1
    return web.Response(
        text="<html><body>Before you continue</body></html>", content_type="text/html"
    )


async def control_turn(request: web.Request) -> web.Response:
    """``POST /_emulator/gemini/turn/{id}``: a new turn at the end of a chat."""
    state = world(request)
    cid = request.match_info["id"]
    if cid not in state.chats:
        return web.json_response({"added": False}, status=404)
    turn = state.add_turn(cid, f"One more question ({len(state.chats[cid].turns)})")
    return web.json_response({"added": True, "rid": turn.rid})


def add_routes(app: web.Application) -> None:
    app.router.add_get(APP, app_page)
    app.router.add_post(BATCH, batchexecute)
    app.router.add_get("/consent/ml", elsewhere_page)
    app.router.add_get("/ServiceLogin", elsewhere_page)
    app.router.add_post("/_emulator/gemini/turn/{id}", control_turn)
    app.router.add_get(IMAGES + "/{name}", image)


# Both RPCs share one path: the fake logs each chat read under a route name of its own, and
# each image fetch (a no-change backup asks neither again).
ITEM_ROUTES = frozenset({READ_ROUTE, IMAGE_ROUTE})


def default_config() -> GeminiEmulatorConfig:
    return GeminiEmulatorConfig()


def environment(base_url: str) -> dict[str, str]:
    config = GeminiEmulatorConfig()
    cookie = f"__Secure-1PSID={config.psid}; __Secure-1PSIDTS={config.psidts}"
    return {COOKIE_ENV: cookie, BASE_URL_ENV: base_url}
