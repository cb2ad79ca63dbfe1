"""Secrets and settings. Secrets come from environment variables or a 0600 file, never argv,
and are wrapped so that printing, logging or repr() never shows them."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from archiver.errors import ConfigError


class Secret:
    """A credential. ``str()``/``repr()`` are masked; ``reveal()`` is the only way to the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def read_secret_file(path: str | os.PathLike[str]) -> Secret:
    file = Path(path)
    try:
        info = file.stat()
    except OSError:
        # The argument itself is never shown: a token pasted where its file name belongs
        # would otherwise be echoed to the terminal, the cron mail and the logs.
        raise ConfigError(
            "the secret file argument does not name a readable file "
            "(give the path of a 0600 file holding the secret, not the secret itself)"
        ) from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"secret file {file} is readable by others (mode {stat.S_IMODE(info.st_mode):o}); "
            f"run: chmod 600 {file}"
        )
    try:
        value = file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"cannot read secret file {file}") from None
    if not value:
        raise ConfigError(f"secret file {file} is empty")
    _check_one_line(value, f"secret file {file}")
    return Secret(value)


def has_control_character(value: str) -> bool:
    """What an HTTP header value must not hold: a line break or another control character
    (the client would refuse the request, or worse, a header would be injected)."""
    return any(ord(c) < 32 or ord(c) == 127 for c in value)


def _check_one_line(value: str, where: str) -> None:
    """A credential goes into an HTTP header (``has_control_character``). Never show the
    value."""
    if has_control_character(value):
        raise ConfigError(f"{where} holds more than one line or a control character")


@dataclass(frozen=True)
class Credential:
    """A provider's credential, declared once: the environment variable it is read from, what
    messages call it, and the stem of the options that name a 0600 file holding it instead
    (``--<stem>-file``; a job's ``<stem>_file`` and ``<stem>_env``)."""

    env_var: str
    what: str
    stem: str = "token"

    @property
    def file_option(self) -> str:
        return f"--{self.stem.replace('_', '-')}-file"

    def load(
        self,
        file: str | os.PathLike[str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Secret:
        """A file, when given, wins over the environment variable."""
        if file is not None:
            return read_secret_file(file)
        value = (environ if environ is not None else os.environ).get(self.env_var, "").strip()
        if not value:
            raise ConfigError(
                f"no {self.what}: set {self.env_var}, or pass a 0600 file with {self.file_option}"
            )
        _check_one_line(value, self.env_var)
        return Secret(value)


def pasted_cookie_header(raw: str) -> str:
    """A Cookie header as the user pasted it: stripped, without the ``Cookie:`` name a copy of
    the whole header line from the browser's network view carries."""
    value = raw.strip()
    if value.lower().startswith("cookie:"):
        value = value[len("cookie:") :].strip()
    return value


def env_setting(name: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    value = (environ if environ is not None else os.environ).get(name, "").strip()
    return (value or default).rstrip("/")


def env_base_url(name: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    """A base URL from the environment, checked: a typo is a config error, not a traceback."""
    value = env_setting(name, default, environ)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http(s) URL such as {default}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError(f"{name} must not contain a user, password, query string or fragment")
    return value
