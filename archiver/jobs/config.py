"""Job files: TOML declaring what to run, against which database, on which schedule.

Parsing is strict: unknown keys are errors, each kind declares its own options, and a job file
holding a secret inline is refused. Every error names the file and the key, never a value."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from archiver import options as opt
from archiver.errors import ConfigError
from archiver.jobs.cron import CronSchedule, parse_cron
from archiver.jobs.kinds import get_kind

COMMON_KEYS = ("kind", "db", "schedule", "description")

# Key words that name a credential: such a key may only point at one (``*_env``, ``*_file``).
_SECRET_WORDS = {
    "token",
    "cookie",
    "cookies",
    "password",
    "passwd",
    "secret",
    "apikey",
    "auth",
    "authorization",
    "bearer",
    "credential",
    "credentials",
}
_SECRET_JOINED = ("accesstoken", "apikey", "sessiontoken")
_REFERENCE_SUFFIXES = ("env", "file")
# Values that are credentials whatever the key is called.
_SECRET_PATTERNS = (
    (re.compile(r"eyJ[A-Za-z0-9_-]{10,}"), "a JWT"),
    (re.compile(r"(?:^|[\s;])_U="), "a _U= cookie"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), "an sk- API key"),
    (re.compile(r"\bBearer\s+\S", re.IGNORECASE), "a Bearer header"),
)


@dataclass(frozen=True)
class JobConfig:
    path: Path  # absolute path of the job file
    name: str  # the file name without .toml: the ``job`` of its runs rows
    kind: str
    db: Path  # absolute; a relative ``db`` is relative to the job file's directory
    schedule: CronSchedule | None = None
    description: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def needed_env_vars(self) -> list[str]:
        """Environment variables the job reads credentials from (those without a ``*_file``)."""
        return [
            value
            for key, value in self.options.items()
            if key.endswith("_env") and value and self.options.get(key[:-4] + "_file") is None
        ]


def _walk(data: Any, prefix: str = "") -> Iterator[tuple[str, str, Any]]:
    """(dotted key, last key, value) for every value, nested tables and arrays included."""
    if isinstance(data, dict):
        for key, value in data.items():
            dotted = f"{prefix}.{key}" if prefix else str(key)
            yield dotted, str(key), value
            yield from _walk(value, dotted)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield f"{prefix}[{i}]", prefix.rsplit(".", 1)[-1], value
            yield from _walk(value, f"{prefix}[{i}]")


def _is_secret_key(key: str) -> bool:
    parts = [p for p in re.split(r"[^a-z0-9]+", key.lower()) if p]
    if parts and parts[-1] in _REFERENCE_SUFFIXES:
        return False
    joined = "".join(parts)
    return any(p in _SECRET_WORDS for p in parts) or any(w in joined for w in _SECRET_JOINED)


def check_no_inline_secrets(data: Mapping[str, Any], source: str) -> None:
    """Refuse a job file that holds a credential. The message names the key, never the value."""
    hint = "name an environment variable (e.g. token_env) or a 0600 file (e.g. token_file) instead"
    for dotted, key, value in _walk(dict(data)):
        if not isinstance(value, str):
            continue
        for pattern, what in _SECRET_PATTERNS:
            if pattern.search(value):
                raise ConfigError(
                    f"{source}: key {dotted!r} holds what looks like a secret ({what}); "
                    f"job files must not contain secrets: {hint}"
                )
        if _is_secret_key(key) and value.strip():
            raise ConfigError(
                f"{source}: key {dotted!r} holds a secret inline; "
                f"job files must not contain secrets: {hint}"
            )


def parse_job(data: Mapping[str, Any], path: Path) -> JobConfig:
    """Validate a parsed job file; ``path`` locates relative paths and names the file in errors."""
    source = str(path)
    check_no_inline_secrets(data, source)
    kind_name = data.get("kind")
    if kind_name is None:
        raise ConfigError(f"{source}: missing required key 'kind'")
    if not isinstance(kind_name, str):
        raise ConfigError(f"{source}: key 'kind' must be a string such as 'backup NAME' or 'batch'")
    try:
        kind = get_kind(" ".join(kind_name.split()))
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    allowed = (*COMMON_KEYS, *kind.options)
    for key in data:
        if key not in allowed:
            raise ConfigError(
                f"{source}: unknown key {key!r} for kind {kind.name!r} "
                f"(allowed: {', '.join(allowed)})"
            )
    base = path.parent

    def checked(key: str, check: opt.Checker) -> Any:
        try:
            return check(data[key], base)
        except ValueError as exc:
            raise ConfigError(f"{source}: key {key!r} {exc}") from None

    if "db" not in data:
        raise ConfigError(f"{source}: missing required key 'db' (the archive database path)")
    db = checked("db", opt.path)
    schedule = None
    if "schedule" in data:
        if not isinstance(data["schedule"], str):
            raise ConfigError(f"{source}: key 'schedule' must be a cron expression string")
        try:
            schedule = parse_cron(data["schedule"])
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    description = checked("description", opt.text) if "description" in data else None
    values = {
        key: checked(key, option.check) if key in data else option.default
        for key, option in kind.options.items()
    }
    return JobConfig(
        path=path,
        name=path.stem,
        kind=kind.name,
        db=db,
        schedule=schedule,
        description=description,
        options=values,
    )


def load_job(path: str | Path) -> JobConfig:
    """Read, parse and validate one job file; ConfigError (exit 2) names the file."""
    file = Path(path).expanduser().absolute()
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read job file ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: not valid TOML (not UTF-8 text)") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's messages give a position, never the offending text.
        raise ConfigError(f"{file}: not valid TOML ({exc})") from None
    return parse_job(data, file)


def describe_job(job: JobConfig) -> str:
    """What ``archiver run --check`` prints: the job and every option as it will be used
    (credentials are only ever variable names and file paths, so nothing here is secret)."""
    lines = [f"{job.path}: {job.kind!r} on {job.db}"]
    if job.schedule is not None:
        upcoming = job.schedule.next_after(datetime.now().astimezone())
        lines.append(
            f"  schedule = {job.schedule.expression!r}  # next: {upcoming:%Y-%m-%d %H:%M %Z}"
        )
    lines.extend(f"  {key} = {value!r}" for key, value in sorted(job.options.items()))
    return "\n".join(lines)
