"""The emulator's 2026 send: sentinel tokens (single use), both proof forms at a configurable
difficulty, prepare/finalize, the refusals, and f/conversation's stream."""

from __future__ import annotations

from typing import Any

import pytest

from archiver.emulator import running_emulator
from archiver.providers.chatgpt import pow as pw
from archiver.providers.chatgpt.fake.sentinel import proof_ok
from archiver.providers.chatgpt.fake.world import world_of as chatgpt_world
from archiver.providers.chatgpt.options import ROOT_PARENT
from archiver.providers.chatgpt.stream import build_request
from tests.support.emulator_client import AUTH, call
from tests.support.fakes import fake_config
from tests.support.streams import parse_answer_stream

CONFIG = pw.browser_config("Mozilla/5.0 Test", now=1_790_000_000)
DEVICE = {"oai-device-id": "0b5f3c9e-1111-4222-8333-944445555666"}


def _requirements(base: str) -> dict[str, Any]:
    reply = call(
        "POST",
        f"{base}/sentinel/chat-requirements",
        json={"p": pw.requirements_token(CONFIG)},
        headers=AUTH,
    )
    assert reply.status == 200, reply.text
    return reply.json()


def _sentinel_headers(base: str, form: str = pw.SHA3) -> dict[str, str]:
    req = _requirements(base)
    headers = {"openai-sentinel-chat-requirements-token": req["token"]}
    pow_ = req["proofofwork"]
    if pow_["required"]:
        proof = pw.solve(pow_["seed"], pow_["difficulty"], CONFIG, form=form)
        headers["openai-sentinel-proof-token"] = proof.answer
    return headers


def _send(base: str, headers: dict[str, str], text: str = "Hello there", **fields: Any) -> Any:
    body = {**build_request(text, parent_message_id=ROOT_PARENT, model="gpt-4o"), **fields}
    return call(
        "POST",
        f"{base}/f/conversation",
        json=body,
        headers={**AUTH, **DEVICE, "Accept": "text/event-stream", **headers},
    )


@pytest.mark.parametrize("form", [pw.SHA3, pw.FNV])
def test_a_solved_token_sends_once_and_only_once(form: str) -> None:
    with running_emulator(
        fake_config(chatgpt_conversations=0, chatgpt_pow_difficulty="00ffff")
    ) as emu:
        base = emu.chatgpt_base_url
        req = _requirements(base)
        assert req["proofofwork"] == {
            "required": True,
            "seed": req["proofofwork"]["seed"],
            "difficulty": "00ffff",
        }
        headers = _sentinel_headers(base, form)
        first = _send(base, headers)
        assert first.status == 200
        answer = parse_answer_stream([first.text.encode()])
        assert answer.text and answer.title and answer.conversation_id
        again = _send(base, headers)  # the same requirements token a second time
        assert again.status == 403 and "Unusual activity" in again.json()["detail"]
        assert chatgpt_world(emu.state).refusal_reasons == ["requirements token used twice"]


def _unsolved(seed: str, difficulty: str) -> str:
    """A well-formed proof that does not meet the difficulty. An arbitrary config meets an easy
    difficulty by chance (00ffff: one seed in 256), so the first that fails is taken."""
    for nonce in range(1000):
        config = list(CONFIG)
        config[pw.NONCE_INDEX] = nonce
        answer = "gAAAAAB" + pw.encode_config(config)
        if not proof_ok(answer, seed, difficulty, "both"):
            return answer
    raise AssertionError("every nonce met the difficulty")


def test_missing_or_bad_proof_and_missing_device_are_refused() -> None:
    with running_emulator(
        fake_config(chatgpt_conversations=0, chatgpt_pow_difficulty="00ffff")
    ) as emu:
        base = emu.chatgpt_base_url
        assert _send(base, {}).status == 403
        req = _requirements(base)
        challenge = req["proofofwork"]
        headers = {
            "openai-sentinel-chat-requirements-token": req["token"],
            "openai-sentinel-proof-token": _unsolved(challenge["seed"], challenge["difficulty"]),
        }
        bad = _send(base, headers)
        assert bad.status == 403
        no_device = call(
            "POST",
            f"{base}/f/conversation",
            json={"action": "next", "messages": [], "parent_message_id": "client-created-root"},
            headers={**AUTH, **_sentinel_headers(base)},
        )
        assert no_device.status == 403
        assert (
            chatgpt_world(emu.state).refusal_reasons[0] == "missing or unknown requirements token"
        )
        assert chatgpt_world(emu.state).refusal_reasons[-1] == "no oai-device-id"
        assert emu.state.stats()["prompts"] == 0


def test_only_the_accepted_form_passes() -> None:
    with running_emulator(fake_config(chatgpt_conversations=0, chatgpt_pow_forms="fnv")) as emu:
        base = emu.chatgpt_base_url
        assert _send(base, _sentinel_headers(base, pw.SHA3)).status == 403
        assert _send(base, _sentinel_headers(base, pw.FNV)).status == 200


def test_prepare_and_finalize_form() -> None:
    with running_emulator(
        fake_config(chatgpt_conversations=0, chatgpt_sentinel_form="prepare")
    ) as emu:
        base = emu.chatgpt_base_url
        p = {"p": pw.requirements_token(CONFIG)}
        plain = call("POST", f"{base}/sentinel/chat-requirements", json=p, headers=AUTH)
        assert plain.status == 404
        prepared = call("POST", f"{base}/sentinel/chat-requirements/prepare", json=p, headers=AUTH)
        body = prepared.json()
        assert "token" not in body and body["prepare_token"]
        challenge = body["proofofwork"]
        proof = pw.solve(challenge["seed"], challenge["difficulty"], CONFIG)
        done = call(
            "POST",
            f"{base}/sentinel/chat-requirements/finalize",
            json={"prepare_token": body["prepare_token"], "proofofwork": proof.answer},
            headers=AUTH,
        )
        token = done.json()["token"]
        assert _send(base, {"openai-sentinel-chat-requirements-token": token}).status == 200


def test_turnstile_insisted_on_and_forced_unusual_activity() -> None:
    with running_emulator(fake_config(chatgpt_conversations=0, chatgpt_turnstile="insist")) as emu:
        base = emu.chatgpt_base_url
        assert _requirements(base)["turnstile"]["required"] is True
        assert _send(base, _sentinel_headers(base)).status == 403
    with running_emulator(
        fake_config(
            chatgpt_conversations=0, chatgpt_unusual_activity=1, chatgpt_turnstile="required"
        )
    ) as emu:
        base = emu.chatgpt_base_url
        assert _send(base, _sentinel_headers(base)).status == 403
        assert _send(base, _sentinel_headers(base)).status == 200  # required, not insisted on


def test_model_cap_and_send_paths() -> None:
    with running_emulator(
        fake_config(chatgpt_conversations=0, chatgpt_model_cap=1, chatgpt_model_cap_clears_in=7200)
    ) as emu:
        base = emu.chatgpt_base_url
        assert _send(base, _sentinel_headers(base)).status == 200
        capped = _send(base, _sentinel_headers(base))
        assert capped.status == 429
        detail = capped.json()["detail"]
        assert detail["code"] == "model_cap_exceeded" and 7000 < detail["clears_in"] <= 7200
        other = _send(base, _sentinel_headers(base), model="gpt-4o-mini")
        assert other.status == 200  # a cap is per model
    with running_emulator(fake_config(chatgpt_conversations=0, chatgpt_send_paths="f")) as emu:
        legacy = call("POST", f"{emu.chatgpt_base_url}/conversation", json={}, headers=AUTH)
        assert legacy.status == 404
    with running_emulator(fake_config(chatgpt_conversations=0, chatgpt_send_paths="legacy")) as emu:
        assert _send(emu.chatgpt_base_url, {}).status == 404


def test_the_2026_stream_has_channels_and_side_frames() -> None:
    with running_emulator(fake_config(chatgpt_conversations=0)) as emu:
        base = emu.chatgpt_base_url
        reply = _send(base, _sentinel_headers(base), text="Tell me about rivers")
        text = reply.text
        for kind in (
            "resume_conversation_token",
            "input_message",
            "server_ste_metadata",
            "message_marker",
            "url_moderation",
            "title_generation",
            "conversation_detail_metadata",
            "stream_handoff",
        ):
            assert f'"type": "{kind}"' in text
        assert '"c": 0' in text and '"c": 1' in text
        answer = parse_answer_stream([text.encode()])
        detail = call("GET", f"{base}/conversation/{answer.conversation_id}", headers=AUTH).json()
        stored = detail["mapping"][answer.message_id]["message"]
        assert stored["content"]["parts"][0] == answer.text
        assert answer.message["metadata"]["finish_details"]["type"] == "stop"
        assert answer.title == detail["title"]
