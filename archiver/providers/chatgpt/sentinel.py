"""The sentinel step before every ChatGPT send (docs/protocol/chatgpt.md, "Sending a prompt").

``POST sentinel/chat-requirements`` with ``{"p": <requirements token>}`` answers a single-use
``token`` and the challenges: a proof of work (solved in a thread, ``pow.py``) and Turnstile
(never solved: archiver goes on without it, and a server that insists refuses the send with
403 "Unusual activity", which the sender reports). Servers that offer only the two-step form
answer 404 there: then ``.../prepare`` and ``.../finalize`` are used for the rest of the run. A
server with no sentinel at all (an older deployment, a proxy) answers 404 to both: sends then
go without sentinel headers.

The requirements token is single use, so every send attempt calls ``headers()`` anew. The
tokens are credentials of a sort: they go into headers only, never into a message or a log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from archiver.errors import AuthError, NotFoundError, UpstreamError
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.providers.chatgpt.pow import (
    MAX_TRIES,
    SHA3,
    Proof,
    browser_config,
    requirements_token,
    solve_in_thread,
)
from archiver.providers.chatgpt.refusals import as_refusal
from archiver.transport.http import HttpClient

log = logging.getLogger("archiver.chatgpt.sentinel")

REQUIREMENTS_PATH = "sentinel/chat-requirements"
PLAIN, PREPARE, NONE = "plain", "prepare", "none"
TOKEN_HEADER = "openai-sentinel-chat-requirements-token"
PROOF_HEADER = "openai-sentinel-proof-token"


@dataclass(frozen=True)
class Requirements:
    token: str | None
    prepare_token: str | None
    proof_required: bool
    seed: str | None
    difficulty: str | None
    turnstile_required: bool


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_requirements(payload: Any) -> Requirements:
    """The parts of a chat-requirements (or prepare) answer that matter to a send."""
    if not isinstance(payload, dict):
        raise UpstreamError("the sentinel answered an unexpected shape")
    proof: dict[str, Any] = _object(payload.get("proofofwork"))
    turnstile: dict[str, Any] = _object(payload.get("turnstile"))
    token = payload.get("token")
    prepare = payload.get("prepare_token")
    requirements = Requirements(
        token=token if isinstance(token, str) and token else None,
        prepare_token=prepare if isinstance(prepare, str) and prepare else None,
        proof_required=proof.get("required") is True,
        seed=proof.get("seed") if isinstance(proof.get("seed"), str) else None,
        difficulty=proof.get("difficulty") if isinstance(proof.get("difficulty"), str) else None,
        turnstile_required=turnstile.get("required") is True,
    )
    if requirements.proof_required and requirements.seed is None:
        raise UpstreamError("the sentinel asked for a proof of work without a seed")
    return requirements


@dataclass
class SentinelStats:
    solves: list[float] = field(default_factory=list)  # seconds per proof (bench figures)
    tries: list[int] = field(default_factory=list)
    turnstile_seen: int = 0


class Sentinel:
    """One account's sentinel: what form the server speaks (learnt once per run) and how the
    proofs went. Shared by every worker of the account."""

    def __init__(self, settings: ChatGPTSettings, *, form: str = SHA3, max_tries: int = MAX_TRIES):
        self.settings = settings
        self.form = form
        self.max_tries = max_tries
        self.mode: str | None = None  # PLAIN, PREPARE or NONE once learnt
        self.stats = SentinelStats()

    async def headers(self, http: HttpClient, *, form: str | None = None) -> dict[str, str]:
        """Fresh sentinel headers for one send attempt ({} when the server has no sentinel)."""
        try:
            return await self._headers(http, form=form)
        except AuthError as exc:
            raise as_refusal(exc) from None

    async def _headers(self, http: HttpClient, *, form: str | None) -> dict[str, str]:
        config = browser_config(
            self.settings.browser.user_agent, language=self.settings.browser.language
        )
        body = {"p": requirements_token(config)}
        payload = await self._ask(http, body)
        if payload is None:
            return {}
        requirements = parse_requirements(payload)
        if requirements.token is None and requirements.prepare_token is None:
            # Nothing to carry (a proxy's stub answer): the send goes without, and a server
            # that wanted tokens says so with Unusual activity.
            log.info("the sentinel answered no requirements token: sending without one")
            return {}
        proof: Proof | None = None
        if requirements.proof_required:
            assert requirements.seed is not None
            proof = await solve_in_thread(
                requirements.seed,
                requirements.difficulty or "",
                config,
                form=form or self.form,
                max_tries=self.max_tries,
            )
            self.stats.solves.append(proof.seconds)
            self.stats.tries.append(proof.tries)
        if requirements.turnstile_required:
            if not self.stats.turnstile_seen:
                log.warning(
                    "the sentinel asks for a Turnstile check: archiver never solves one and "
                    "sends without it (a server that insists refuses with Unusual activity)"
                )
            self.stats.turnstile_seen += 1
        token = requirements.token
        if token is None:
            token = await self._finalize(http, requirements, proof)
        headers = {TOKEN_HEADER: token}
        if proof is not None and requirements.token is not None:
            headers[PROOF_HEADER] = proof.answer  # the two-step form proved it at finalize
        return headers

    async def _ask(self, http: HttpClient, body: dict[str, Any]) -> Any:
        url = self.settings.url
        if self.mode in (None, PLAIN):
            try:
                payload = await http.request_json(
                    "POST", url(REQUIREMENTS_PATH), headers=self.settings.headers(), json=body
                )
            except NotFoundError:
                if self.mode == PLAIN:
                    raise
            else:
                self.mode = PLAIN
                return payload
        if self.mode in (None, PREPARE):
            try:
                payload = await http.request_json(
                    "POST",
                    url(f"{REQUIREMENTS_PATH}/prepare"),
                    headers=self.settings.headers(),
                    json=body,
                )
            except NotFoundError:
                if self.mode == PREPARE:
                    raise
            else:
                self.mode = PREPARE
                return payload
        if self.mode is None:
            log.info("this server has no sentinel (404): sending without sentinel tokens")
        self.mode = NONE
        return None

    async def _finalize(
        self, http: HttpClient, requirements: Requirements, proof: Proof | None
    ) -> str:
        answer = await http.request_json(
            "POST",
            self.settings.url(f"{REQUIREMENTS_PATH}/finalize"),
            headers=self.settings.headers(),
            json={
                "prepare_token": requirements.prepare_token,
                "proofofwork": proof.answer if proof is not None else "",
            },
        )
        token = answer.get("token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise UpstreamError("the sentinel's finalize step answered no token")
        return token
