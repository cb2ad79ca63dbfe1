"""Options declared once: each command (and the job kind of the same name) declares its keys
here, and both the job-file parser and the click options are generated from that declaration
(as borgmatic derives its flags from its schema). ``max_rpm`` is ``--max-rpm``; a boolean is a
flag that defaults to false (``no_archived = true`` is ``--no-archived``); ``cli=False`` keys
(base URLs, ``*_env`` names) come from the environment on the command line.

A checker gets the raw TOML value and the job file's directory and returns the cleaned value or
raises ValueError with a message that never repeats the value (job files are checked for inline
secrets first, but a message is the wrong place for any user value anyway)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import click

from archiver.config import Credential, Secret, read_secret_file
from archiver.errors import ConfigError


class JobValues(Protocol):
    """What a job kind reads of a job: its checked options (``archiver.jobs.config.JobConfig``
    is one; typed here so that the option declarations need nothing from jobs/)."""

    @property
    def options(self) -> Mapping[str, Any]: ...


Checker = Callable[[Any, Path], Any]
# A conventional variable name only: anything else in token_env/cookie_env is more likely a
# credential pasted into the wrong key, and such a value must never be echoed anywhere.
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,63}$")


@dataclass(frozen=True)
class Option:
    check: Checker
    default: Any = None
    help: str = ""
    cli: bool = True  # also a command-line option; False: job files only (CLI reads env)
    flag: str = ""  # the command-line flag when not the key's (``--all`` for all_conversations)
    flag_help: str = ""  # the command line's help when it differs from the job key's


def click_type(check: Checker) -> Any:
    """The click parameter type matching a checker (``None``: a plain string)."""
    return getattr(check, "click_type", None)


def integer(low: int, high: int | None = None) -> Checker:
    def check(value: Any, _base: Path) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a whole number")
        if value < low or (high is not None and value > high):
            raise ValueError(
                f"must be from {low} to {high}" if high is not None else f"must be at least {low}"
            )
        return value

    check.click_type = click.IntRange(low, high)  # type: ignore[attr-defined]
    return check


def one_of(*choices: str) -> Checker:
    def check(value: Any, _base: Path) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return str(value)

    check.click_type = click.Choice(choices)  # type: ignore[attr-defined]
    return check


class FiniteFloatRange(click.FloatRange):
    """click's FloatRange without ``nan`` and ``inf``: nan passes every comparison, so a range
    check alone lets it through (``--timeout nan`` would wait forever, ``--max-rpm nan`` would
    switch the limiter off)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def is_number(value: Any) -> bool:
    """A finite int or float from a job file (TOML has nan and inf; a bool is not a number)."""
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def positive_number(value: Any, _base: Path) -> float:
    if not is_number(value) or value <= 0:
        raise ValueError("must be a number above 0")
    return float(value)


def non_negative_number(value: Any, _base: Path) -> float:
    if not is_number(value) or value < 0:
        raise ValueError("must be a number, 0 or more")
    return float(value)


positive_number.click_type = FiniteFloatRange(min=0, min_open=True)  # type: ignore[attr-defined]
non_negative_number.click_type = FiniteFloatRange(min=0)  # type: ignore[attr-defined]


def number(low: float, high: float | None = None) -> Checker:
    """A finite number from ``low`` to ``high`` (both included; no ``high``: no upper bound)."""

    def check(value: Any, _base: Path) -> float:
        if not is_number(value) or value < low or (high is not None and value > high):
            if high is None:
                raise ValueError(f"must be a number, at least {low:g}")
            raise ValueError(f"must be a number from {low:g} to {high:g}")
        return float(value)

    check.click_type = FiniteFloatRange(low, high)  # type: ignore[attr-defined]
    return check


def boolean(value: Any, _base: Path) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def text(value: Any, _base: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


def env_name(value: Any, _base: Path) -> str:
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        raise ValueError(
            "must name an environment variable (UPPER_CASE letters, digits and _, "
            "at most 64 characters)"
        )
    return value


def path(value: Any, base: Path) -> Path:
    """``~`` is expanded; a relative path is relative to the job file's directory."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a file path")
    if "\x00" in value:  # no file system takes one: opening it later would raise ValueError
        raise ValueError("must not contain a NUL character")
    expanded = Path(value.strip()).expanduser()
    return expanded if expanded.is_absolute() else (base / expanded)


path.click_type = click.Path(dir_okay=False)  # type: ignore[attr-defined]


def http_url(value: Any, _base: Path) -> str:
    """A base URL; credentials or query strings in it would be secrets in a job file."""
    if not isinstance(value, str):
        raise ValueError("must be an http(s) URL")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("must not contain a user, password, query string or fragment")
    return value.strip().rstrip("/")


def credential(stem: str, default_env: str, what: str | None = None) -> dict[str, Option]:
    """``<stem>_env`` (an environment variable NAME) and ``<stem>_file`` (a 0600 file path):
    the only ways a job file may point at a credential. ``what`` names it in help texts
    ("Copilot token"; default: the stem)."""
    what = what or stem.replace("_", " ")
    return {
        f"{stem}_env": Option(
            env_name, default_env, f"environment variable holding the {what}", cli=False
        ),
        f"{stem}_file": Option(
            path, None, f"Read the {what} from this file (mode 0600) instead of {default_env}."
        ),
    }


def job_secret(job: JobValues, secret: Credential) -> Secret:
    """The credential a job points at with ``<stem>_file`` (wins) or ``<stem>_env``; read when
    the job runs, so that ``archiver schedule`` never needs it."""
    stem, what = secret.stem, secret.what
    file = job.options.get(f"{stem}_file")
    if file is not None:
        return read_secret_file(file)
    env_var = job.options[f"{stem}_env"]
    try:
        return replace(secret, env_var=env_var).load()
    except ConfigError:
        # No job-name prefix: the runner names the job. env_var passed env_name, so it is a
        # conventional variable name, not a pasted credential, and safe to show.
        raise ConfigError(
            f"no {what}: set the environment variable {env_var} "
            f"({stem}_env), or point {stem}_file at a 0600 file"
        ) from None
