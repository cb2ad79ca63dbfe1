"""Job files: strict parsing, secrets refused without being echoed, errors name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.errors import ConfigError
from archiver.jobs.config import load_job
from tests.support.jobhelpers import write_job

REPO_JOBS = Path(__file__).resolve().parents[2] / "jobs"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlc2lnbmF0dXJl"


def run_cli(path: Path):
    return CliRunner().invoke(cli, ["run", str(path)])


def test_valid_job_with_defaults(tmp_path):
    job = load_job(write_job(tmp_path, "nightly", kind="backup chatgpt", db="data/a.db"))
    assert job.name == "nightly"
    assert job.kind == "backup chatgpt"
    assert job.db == tmp_path / "data" / "a.db"  # relative to the job file, not the cwd
    assert job.schedule is None
    assert job.options["token_env"] == "CHATGPT_ACCESS_TOKEN"
    assert job.options["concurrency"] == 2 and job.options["no_archived"] is False
    assert job.needed_env_vars() == ["CHATGPT_ACCESS_TOKEN"]


def test_home_and_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    job = load_job(
        write_job(tmp_path, kind="backup chatgpt", db="~/a.db", token_file="/etc/archiver/t")
    )
    assert job.db == tmp_path / "home" / "a.db"
    assert job.options["token_file"] == Path("/etc/archiver/t")
    assert job.needed_env_vars() == []


@pytest.mark.parametrize(
    ("key", "value", "what"),
    [
        ("token", "plain-token-value-123", "inline"),
        ("access_token", "plain-token-value-123", "inline"),
        ("cookie", "abcdef-cookie-value", "inline"),
        ("password", "hunter2-but-longer", "inline"),
        ("client_secret", "s3cr3t-value-xyz", "inline"),
        ("description", JWT, "JWT"),
        ("base_url", "https://x.example/" + JWT, "JWT"),
        ("description", "_U=1AbCdEfGhIjKlMnOp", "_U="),
        ("description", "sk-proj-abcdefghijklmnop1234", "sk-"),
        ("description", "Bearer abc.def.ghi-my-token", "Bearer"),
        ("token_env", JWT, "JWT"),  # the token pasted where its variable's name belongs
    ],
)
def test_inline_secret_is_refused_without_echo(tmp_path, key, value, what):
    path = write_job(tmp_path, "leaky", kind="backup chatgpt", db="a.db", **{key: value})
    result = run_cli(path)
    assert result.exit_code == 2
    assert str(path) in result.output
    assert repr(key) in result.output
    assert what in result.output
    assert value not in result.output
    assert value[:12] not in result.output
    assert not (tmp_path / "a.db").exists()


def test_secret_in_nested_table_is_refused(tmp_path):
    path = tmp_path / "nested.toml"
    path.write_text(f'kind = "backup chatgpt"\ndb = "a.db"\n[headers]\nx = "{JWT}"\n')
    with pytest.raises(ConfigError) as info:
        load_job(path)
    assert "'headers.x'" in str(info.value) and JWT[:12] not in str(info.value)


def test_env_name_must_look_like_a_name(tmp_path):
    path = write_job(tmp_path, kind="backup chatgpt", db="a.db", token_env="not a name!")
    result = run_cli(path)
    assert result.exit_code == 2
    assert "'token_env'" in result.output and "not a name!" not in result.output


def test_numbers_and_words_that_are_not_credentials_are_fine(tmp_path):
    # A key word alone is not enough: the value must be a string (max_tokens-like numbers pass
    # the secret check and then fail as an unknown key for this kind).
    path = write_job(tmp_path, kind="backup chatgpt", db="a.db", token_limit=5)
    with pytest.raises(ConfigError, match="unknown key 'token_limit'"):
        load_job(path)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"kind": "backup chatgpt", "db": "a.db", "colour": "blue"}, "unknown key 'colour'"),
        ({"db": "a.db"}, "missing required key 'kind'"),
        ({"kind": "backup chatgpt"}, "missing required key 'db'"),
        ({"kind": "backup myspace", "db": "a.db"}, "unknown job kind 'backup myspace'"),
        ({"kind": "backup chatgpt", "db": "a.db", "schedule": "61 * * * *"}, "minute: 61"),
        ({"kind": "backup chatgpt", "db": "a.db", "schedule": "* * *"}, "needs 5 fields"),
        ({"kind": "backup chatgpt", "db": "a.db", "concurrency": 0}, "'concurrency' must be"),
        ({"kind": "backup chatgpt", "db": "a.db", "no_archived": "yes"}, "true or false"),
        ({"kind": "backup chatgpt", "db": "a.db", "base_url": "ftp://x"}, "http(s) URL"),
        (
            {"kind": "backup chatgpt", "db": "a.db", "base_url": "https://h/api?key=1"},
            "query string",
        ),
    ],
)
def test_bad_job_file_exit_2_naming_the_file(tmp_path, keys, message):
    path = write_job(tmp_path, "broken", **keys)
    result = run_cli(path)
    assert result.exit_code == 2
    assert str(path) in result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_toml_names_the_file_and_never_echoes(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('kind = "backup chatgpt"\ntoken = eyJunquotedsecretvalue123\n')
    result = run_cli(path)
    assert result.exit_code == 2
    assert f"{path}: not valid TOML" in result.output
    assert "line 2" in result.output
    assert "eyJunquoted" not in result.output


def test_missing_job_file(tmp_path):
    result = run_cli(tmp_path / "nope.toml")
    assert result.exit_code == 2
    assert "nope.toml: cannot read job file" in result.output


def test_an_unknown_kind_names_the_known_ones(tmp_path):
    path = write_job(tmp_path, kind="backup myspace", db="a.db")
    with pytest.raises(ConfigError, match=r"unknown job kind 'backup myspace'.*batch.*import"):
        load_job(path)


@pytest.mark.parametrize("path", sorted(REPO_JOBS.glob("*.toml")), ids=lambda p: p.name)
def test_example_job_files_are_valid(path):
    job = load_job(path)
    assert job.schedule is not None
    assert job.db.is_absolute()
