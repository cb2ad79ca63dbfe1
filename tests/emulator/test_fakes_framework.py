"""The emulator's framework (``archiver/fakes/``) knows no provider: each provider's fake brings
its knobs (flags of ``archiver emulator`` generated from them) and a world that answers the
framework's questions (its credential for the rate limiter, deletions, counters)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from archiver.emulator import running_emulator
from archiver.emulator.cli import emulator_command
from archiver.emulator.options import config_from
from archiver.providers import registry
from archiver.providers.bing.fake.world import world_of as bing_world
from archiver.providers.chatgpt.fake.world import world_of as chatgpt_world
from archiver.providers.copilot.fake.world import world_of as copilot_world
from tests.support.emulator_client import call
from tests.support.fakes import fake_config

FAKES = Path(__file__).resolve().parents[2] / "archiver" / "fakes"
# The flags the command had when each knob was declared by hand (scripts/demo.py, bench/ and
# the docs use them): generated now, under the same names.
FLAGS = [
    "--conversations",
    "--mean-nodes",
    "--token",
    "--account-id",
    "--session-cookie",
    "--token-lifetime-s",
    "--challenge-script-agents",
    "--projects",
    "--project-conversations",
    "--cursor-form",
    "--gone-file-rate",
    "--pow-difficulty",
    "--pow-forms",
    "--sentinel-form",
    "--turnstile",
    "--unusual-activity",
    "--send-paths",
    "--model-cap",
    "--model-cap-clears-in",
    "--one-at-a-time",
    "--bing-chats",
    "--bing-cookie",
    "--bing-signature-style",
    "--bing-times-in-seconds",
    "--bing-conversation-cap",
    "--bing-daily-cap",
    "--bing-captcha",
    "--copilot-chats",
    "--copilot-token",
    "--copilot-identity-type",
    "--copilot-challenge",
    "--copilot-hashcash-bits",
    "--copilot-error",
    "--seed",
    "--latency-ms",
    "--fail-rate",
    "--rate-limit",
    "--rate-burst",
    "--no-retry-after",
    "--challenge-rate",
    "--drop-rate",
    "--stream-delay-ms",
    "--drop-sends",
    "--set",
]


def test_the_framework_names_no_provider() -> None:
    names = re.compile(r"\b(" + "|".join(registry.names()) + r")\b", re.IGNORECASE)
    for path in sorted(FAKES.glob("*.py")):
        found = names.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.name} names {sorted(set(found))}"


def test_the_knob_flags_keep_their_names() -> None:
    offered = {opt for param in emulator_command.params for opt in param.opts}
    assert set(FLAGS) <= offered, sorted(set(FLAGS) - offered)


def parsed(*args: str) -> tuple[dict[str, object], tuple[str, ...]]:
    params = dict(emulator_command.make_context("emulator", list(args)).params)
    settings = params.pop("settings")
    del params["no_retry_after"], params["allow_remote"]
    assert isinstance(settings, tuple)
    return params, settings


def test_flags_and_set_fill_each_providers_config() -> None:
    options, settings = parsed(
        *("--conversations", "5", "--pow-difficulty", "00FFFF", "--latency-ms", "4"),
        *("--bing-chats", "2", "--bing-captcha", "--copilot-challenge", "hashcash"),
        *("--set", "copilot.page_size=3", "--set", "chatgpt.conversations=7"),
    )
    config = config_from(options, settings=settings)
    chatgpt, bing, copilot = (config.provider(n) for n in ("chatgpt", "bing", "copilot"))
    assert (chatgpt.conversations, chatgpt.pow_difficulty) == (7, "00ffff")  # --set comes last
    assert (bing.chats, bing.captcha, bing.signature_style) == (2, True, "header")
    assert (copilot.challenge, copilot.page_size, copilot.chats) == ("hashcash", 3, 0)
    assert config.latency_ms == 4 and config.provider("claude") is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pow-difficulty", "xyz"], "'xyz' is not hex"),
        (["--copilot-challenge", "captcha"], "--copilot-challenge"),
        (["--bing-daily-cap", "-1"], "--bing-daily-cap"),
    ],
)
def test_a_bad_knob_is_a_usage_error(args: list[str], message: str) -> None:
    # (--host: should the value pass, the command stops there instead of serving forever)
    result = CliRunner().invoke(emulator_command, [*args, "--host", "192.0.2.1"])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_set_refuses_a_knob_the_provider_does_not_have() -> None:
    options, settings = parsed("--set", "copilot.nope=1")
    with pytest.raises(click.BadParameter, match="copilot has no emulator setting 'nope'"):
        config_from(options, settings=settings)


def test_fake_config_refuses_an_unknown_knob() -> None:
    with pytest.raises(TypeError, match="no emulator knob 'conversations'"):
        fake_config(conversations=3)  # ChatGPT's is chatgpt_conversations


def test_each_world_answers_for_its_own_upstream() -> None:
    config = fake_config(
        rate_limit=60, rate_burst=1, chatgpt_projects=1, bing_chats=2, copilot_chats=2
    )
    with running_emulator(config) as emu:
        chats = f"{emu.base_url}/turing/conversation/chats"
        # Bing's _U cookie is what the rate limiter counts by: one bucket per cookie.
        assert call("GET", chats, headers={"Cookie": "_U=one"}).status == 200
        assert call("GET", chats, headers={"Cookie": "_U=one"}).status == 429
        assert call("GET", chats, headers={"Cookie": "_U=two"}).status == 200
        # /_emulator/delete reaches whichever world holds the id.
        project = next(iter(chatgpt_world(emu.state).projects))
        bing_chat = next(iter(bing_world(emu.state).chats))
        pilot = next(iter(copilot_world(emu.state).chats))
        for item in (project, bing_chat, pilot):
            assert call("POST", f"{emu.base_url}/_emulator/delete/{item}").status == 200
        assert call("POST", f"{emu.base_url}/_emulator/delete/nothing-here").status == 404
        assert project in chatgpt_world(emu.state).deleted_projects
        assert bing_world(emu.state).chat(bing_chat) is None
        assert copilot_world(emu.state).chat(pilot) is None
        # Every world's counters are in the stats, at zero before they count anything.
        stats = call("GET", f"{emu.base_url}/_emulator/stats").json()
        for counter in ("sentinel_issued", "bing_user_messages", "copilot_pongs"):
            assert stats[counter] == 0
        assert stats["rate_limited"] == 1
