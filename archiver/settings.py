"""Settings declared by where each value comes from: an account's settings class names, field
by field, its credential (``config.Credential``), its base URLs and its header values, and
``FromEnvironment.from_env`` reads them from the environment (and a 0600 file)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar, Self

from archiver.config import Credential, env_base_url, has_control_character
from archiver.errors import ConfigError


class OneSignIn:
    """Settings whose secret is the only sign-in there is to the upstream (a cookie, a token
    with no account id beside it): runs, cool-downs and sync state are kept for the account
    ``""``."""

    @property
    def account(self) -> str:
        return ""


@dataclass(frozen=True)
class EnvUrl:
    """A base URL from ``env_var`` (``env_base_url``: checked), else ``default``."""

    env_var: str
    default: str

    def read(self, environ: Mapping[str, str]) -> str:
        return env_base_url(self.env_var, self.default, environ)


@dataclass(frozen=True)
class EnvHeader:
    """A value sent as an HTTP header (a User-Agent) from ``env_var``, else ``default`` (None:
    not sent). A control character in it is a config error, not a refused request or an
    injected header."""

    env_var: str
    default: str | None = None

    def read(self, environ: Mapping[str, str]) -> str | None:
        value = environ.get(self.env_var, "").strip() or self.default
        if value is not None and has_control_character(value):
            raise ConfigError(f"{self.env_var} holds a control character")
        return value


EnvSource = Credential | EnvUrl | EnvHeader


def env_sources(**sources: EnvSource) -> Mapping[str, EnvSource]:
    """A settings class's ``FROM_ENV``: field name → where it comes from, in reading order."""
    return MappingProxyType(sources)


class FromEnvironment:
    """Settings whose class says where each field comes from: ``FROM_ENV`` maps a field to
    its ``Credential`` (a file, when given, wins over its variable), ``EnvUrl`` or
    ``EnvHeader``, read in that order (the first bad one is the error). Fields it does not
    name keep their defaults."""

    FROM_ENV: ClassVar[Mapping[str, EnvSource]]

    @classmethod
    def from_env(
        cls,
        secret_file: str | os.PathLike[str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Self:
        env = environ if environ is not None else os.environ
        values = {
            name: source.load(secret_file, env)
            if isinstance(source, Credential)
            else source.read(env)
            for name, source in cls.FROM_ENV.items()
        }
        return cls(**values)
