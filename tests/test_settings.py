"""Settings declared by where each field comes from (``settings.FromEnvironment``)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from archiver.config import Credential, Secret
from archiver.errors import ConfigError
from archiver.settings import EnvHeader, EnvUrl, FromEnvironment, env_sources

TOKEN = Credential("DEMO_TOKEN", "demo token")


@dataclass(frozen=True)
class DemoSettings(FromEnvironment):
    token: Secret
    base_url: str = "https://demo.example"
    agent: str | None = None
    kept: str = "declared default"

    FROM_ENV = env_sources(
        agent=EnvHeader("DEMO_AGENT"),
        token=TOKEN,
        base_url=EnvUrl("DEMO_BASE_URL", "https://demo.example"),
    )


def test_each_field_comes_from_where_the_class_says():
    settings = DemoSettings.from_env(
        environ={"DEMO_TOKEN": " t0k ", "DEMO_BASE_URL": "http://127.0.0.1:9/", "DEMO_AGENT": "a/1"}
    )
    assert settings.token.reveal() == "t0k"
    assert settings.base_url == "http://127.0.0.1:9"
    assert settings.agent == "a/1"
    assert settings.kept == "declared default"  # not named in FROM_ENV


def test_unset_values_take_their_defaults_and_an_unset_header_is_none():
    settings = DemoSettings.from_env(environ={"DEMO_TOKEN": "t"})
    assert (settings.base_url, settings.agent) == ("https://demo.example", None)


def test_a_secret_file_wins_over_the_variable(tmp_path):
    path = tmp_path / "token"
    path.write_text("from-file\n")
    os.chmod(path, 0o600)
    settings = DemoSettings.from_env(str(path), environ={"DEMO_TOKEN": "from-env"})
    assert settings.token.reveal() == "from-file"


def test_fields_are_read_in_declared_order_so_the_first_bad_one_is_the_error():
    bad_everything = {"DEMO_AGENT": "a\nInjected: 1", "DEMO_BASE_URL": "ftp://x"}
    with pytest.raises(ConfigError, match="DEMO_AGENT holds a control character"):
        DemoSettings.from_env(environ=bad_everything)
    with pytest.raises(ConfigError, match="no demo token: set DEMO_TOKEN"):
        DemoSettings.from_env(environ={"DEMO_BASE_URL": "ftp://x"})
    with pytest.raises(ConfigError, match="DEMO_BASE_URL must be an http"):
        DemoSettings.from_env(environ={"DEMO_TOKEN": "t", "DEMO_BASE_URL": "ftp://x"})
