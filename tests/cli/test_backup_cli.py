from __future__ import annotations

import os

import click
import pytest
from click.testing import CliRunner

from archiver.cli import cli
from tests.support.fake_chatgpt import CHALLENGE_PAGE, TOKEN, FakeChatGPT


@pytest.fixture
def fake(httpserver):
    upstream = FakeChatGPT()
    upstream.base_url = upstream.install(httpserver)
    upstream.add("c1", 1_700_000_000)
    return upstream


def invoke(args, env):
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def test_backup_prints_a_summary_and_exits_0(tmp_path, fake):
    env = {"CHATGPT_ACCESS_TOKEN": TOKEN, "CHATGPT_BASE_URL": fake.base_url}
    result = invoke(["backup", "chatgpt", str(tmp_path / "a.db"), "--max-rpm", "6000"], env)
    assert result.exit_code == 0, result.output
    assert "chatgpt: listed 1, fetched 1, new 1" in result.output
    assert TOKEN not in result.output


def test_quiet_prints_nothing_on_success(tmp_path, fake):
    env = {"CHATGPT_ACCESS_TOKEN": TOKEN, "CHATGPT_BASE_URL": fake.base_url}
    result = invoke(["backup", "chatgpt", str(tmp_path / "a.db"), "-q", "--max-rpm", "6000"], env)
    assert result.exit_code == 0
    assert result.output == ""


def test_expired_token_exits_2_without_traceback_or_token(tmp_path, fake):
    env = {"CHATGPT_ACCESS_TOKEN": "expired-secret-value", "CHATGPT_BASE_URL": fake.base_url}
    result = invoke(["backup", "chatgpt", str(tmp_path / "a.db")], env)
    assert result.exit_code == 2
    assert "the access token was refused (expired?)" in result.output
    assert "Traceback" not in result.output
    assert "expired-secret-value" not in result.output


def test_challenge_page_exits_3_with_a_plain_message(tmp_path, fake):
    fake.faults["/backend-api/conversations"].append(CHALLENGE_PAGE)
    env = {"CHATGPT_ACCESS_TOKEN": TOKEN, "CHATGPT_BASE_URL": fake.base_url}
    # --max-rpm: the account snapshot's 4 requests come first and must not be paced slowly.
    result = invoke(["backup", "chatgpt", str(tmp_path / "a.db"), "--max-rpm", "6000"], env)
    assert result.exit_code == 3
    assert "blocked by a challenge page" in result.output


def test_missing_token_is_a_config_error(tmp_path):
    result = invoke(["backup", "chatgpt", str(tmp_path / "a.db")], {"CHATGPT_ACCESS_TOKEN": ""})
    assert result.exit_code == 2
    assert "set CHATGPT_ACCESS_TOKEN" in result.output


def test_token_file_must_be_private(tmp_path, fake):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    os.chmod(token_file, 0o644)
    env = {"CHATGPT_ACCESS_TOKEN": "", "CHATGPT_BASE_URL": fake.base_url}
    args = ["backup", "chatgpt", str(tmp_path / "a.db"), "--token-file", str(token_file)]
    result = invoke(args, env)
    assert result.exit_code == 2 and "chmod 600" in result.output
    os.chmod(token_file, 0o600)
    result = invoke([*args, "--max-rpm", "6000"], env)
    assert result.exit_code == 0, result.output


def test_the_token_is_never_written_to_the_database(tmp_path, fake):
    env = {"CHATGPT_ACCESS_TOKEN": TOKEN, "CHATGPT_BASE_URL": fake.base_url}
    db_path = tmp_path / "a.db"
    invoke(["backup", "chatgpt", str(db_path), "--max-rpm", "6000", "-v"], env)
    for path in tmp_path.iterdir():
        assert TOKEN.encode() not in path.read_bytes()


def test_no_command_line_option_takes_a_secret():
    from archiver.cli import cli as group

    def walk(command):
        # Every subcommand, loaded or not (the group loads them lazily).
        yield command
        if isinstance(command, click.Group):
            context = click.Context(command)
            for name in command.list_commands(context):
                yield from walk(command.get_command(context, name))

    for command in walk(group):
        if command.name == "emulator":
            continue  # its --token/--bing-cookie set what the fake server expects: not secrets
        for param in command.params:
            name = (param.name or "").lower()
            # What the option is: its last word. --max-tokens counts tokens and --key-rpm paces
            # keys, they hold none; --access-token, --apikey, --session-cookie do.
            secret = name.split("_")[-1].endswith(("token", "cookie", "password", "secret", "key"))
            assert not secret or name.endswith(("_file", "_env")), (
                f"{command.name}: --{name} would put a secret in argv"
            )
