"""The sentinel's proof of work: the client's solver against the emulator's checker (written
apart), standard FNV-1a vectors, and the bounds."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json

import pytest

from archiver.providers.chatgpt import pow as pw
from archiver.providers.chatgpt.fake.sentinel import fnv1a, proof_ok

CONFIG = pw.browser_config("Mozilla/5.0 (X11; Linux x86_64) Test/1.0", now=1_790_000_000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"", 0x811C9DC5),  # the offset basis
        (b"a", 0xE40C292C),
        (b"foobar", 0xBF9CF968),
    ],
)
def test_fnv1a_32_known_vectors(text: bytes, expected: int) -> None:
    assert pw.fnv1a_32(text) == expected
    assert fnv1a(text) == expected  # the emulator's own copy agrees


@pytest.mark.parametrize("form", [pw.SHA3, pw.FNV])
@pytest.mark.parametrize("difficulty", ["0fffff", "00ffff", "3"])
def test_solutions_pass_the_emulators_checker(form: str, difficulty: str) -> None:
    for seed in ("0.123", "0.8876543210", "seed-ü"):
        proof = pw.solve(seed, difficulty, CONFIG, form=form)
        assert proof.form == form and proof.tries >= 1
        assert proof_ok(proof.answer, seed, difficulty, "both")
        assert proof_ok(proof.answer, seed, difficulty, form)
        other = pw.FNV if form == pw.SHA3 else pw.SHA3
        assert not proof_ok(proof.answer, seed, difficulty, other)  # the form is in the answer


def test_answer_shape_and_config_carry_the_nonce() -> None:
    proof = pw.solve("0.5", "0fffff", CONFIG, form=pw.SHA3)
    assert proof.answer.startswith("gAAAAAB") and not proof.answer.endswith("~S")
    config = json.loads(base64.b64decode(proof.answer[len("gAAAAAB") :]))
    assert config[pw.NONCE_INDEX] == proof.tries - 1
    assert config[4] == CONFIG[4]  # the User-Agent, unchanged
    # Checked by hand, independently of both implementations: SHA3-512 of seed + data.
    data = proof.answer[len("gAAAAAB") :]
    assert hashlib.sha3_512(("0.5" + data).encode()).hexdigest()[:6] <= "0fffff"
    fnv = pw.solve("0.5", "0fffff", CONFIG, form=pw.FNV)
    assert fnv.answer.startswith("gAAAAAB") and fnv.answer.endswith("~S")
    data = fnv.answer[len("gAAAAAB") : -2]
    assert f"{pw.fnv1a_32(('0.5' + data).encode()):08x}"[:6] <= "0fffff"


def test_a_tampered_answer_fails_the_checker() -> None:
    proof = pw.solve("0.42", "00ffff", CONFIG, form=pw.SHA3)
    data = proof.answer[len("gAAAAAB") :]
    assert not proof_ok("gAAAAAB" + data[::-1], "0.42", "00ffff", "both")
    assert not proof_ok("garbage", "0.42", "00ffff", "both")


def test_requirements_token_is_the_unsolved_config() -> None:
    token = pw.requirements_token(CONFIG)
    assert token.startswith("gAAAAAC")
    assert json.loads(base64.b64decode(token[len("gAAAAAC") :])) == CONFIG


def test_an_unsolvable_difficulty_fails_at_once_naming_it() -> None:
    with pytest.raises(pw.ProofOfWorkError) as info:
        pw.solve("0.1", "000000", CONFIG)
    assert "000000" in str(info.value) and "500,000" in str(info.value)
    assert info.value.exit_code == 3


def test_the_search_is_bounded_and_a_miss_names_the_difficulty() -> None:
    # Mean 256 tries, bound 256: searched (the pre-check lets it through), and for some seeds
    # not met. A frozen clock makes every outcome reproducible.
    outcomes: list[int | None] = []
    for i in range(20):
        try:
            proof = pw.solve(f"s{i}", "00ffff", CONFIG, max_tries=256, clock=lambda: 0.0)
        except pw.ProofOfWorkError as exc:
            assert "00ffff" in str(exc) and "256 tries" in str(exc)
            outcomes.append(None)
        else:
            assert proof.tries <= 256 and proof_ok(proof.answer, f"s{i}", "00ffff", "both")
            outcomes.append(proof.tries)
    assert None in outcomes and any(outcomes)


@pytest.mark.parametrize("bad", ["", "xyz", None, "0f f"])
def test_a_difficulty_that_is_not_hex_is_named(bad: object) -> None:
    with pytest.raises(pw.ProofOfWorkError) as info:
        pw.solve("0.1", bad, CONFIG)  # type: ignore[arg-type]
    assert "not a hex string" in str(info.value)


def test_solving_runs_in_a_thread() -> None:
    async def go() -> tuple[pw.Proof, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        proof = await pw.solve_in_thread("0.7", "00ffff", CONFIG, form=pw.FNV)
        task.cancel()
        return proof, ticks

    proof, ticks = asyncio.run(go())
    assert proof_ok(proof.answer, "0.7", "00ffff", "fnv")
    assert ticks > 0  # the loop kept running while the thread hashed
