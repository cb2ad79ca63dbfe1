"""The registry of job kinds: kind name → the options it accepts and the async function that
runs it. Adding a kind is one entry in ``KINDS``; a kind another branch provides is listed in
``PLANNED_KINDS`` until it is wired, so its job files get a clear "not available" error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import sqlite_utils

from archiver.errors import ConfigError
from archiver.jobs import bing, chatgpt
from archiver.jobs.options import Option

if TYPE_CHECKING:
    from archiver.jobs.config import JobConfig


class JobSummary(Protocol):
    """What a job function returns. It may also carry ``status`` (e.g. ``cooldown``) and
    ``errors`` (a list of one-line messages)."""

    @property
    def exit_code(self) -> int: ...

    def counts(self) -> Mapping[str, Any]: ...

    def line(self) -> str: ...


JobFunction = Callable[[sqlite_utils.Database, "JobConfig"], Awaitable[JobSummary]]


@dataclass(frozen=True)
class JobKind:
    name: str
    options: Mapping[str, Option]
    run: JobFunction


KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind("backup chatgpt", chatgpt.OPTIONS, chatgpt.run_job),
        JobKind("backup bing", bing.OPTIONS, bing.run_job),
        # One line per further kind, e.g. JobKind("import", importing.OPTIONS, importing.run_job)
    )
}

# Kinds other branches provide; their job files are refused until the entry above exists.
PLANNED_KINDS = ("import", "batch", "request-export")


def get_kind(name: str) -> JobKind:
    kind = KINDS.get(name)
    if kind is not None:
        return kind
    if name in PLANNED_KINDS:
        raise ConfigError(f"job kind {name!r} is not available in this version")
    known = sorted({*KINDS, *PLANNED_KINDS})
    raise ConfigError(f"unknown job kind {name!r} (known kinds: {', '.join(known)})")
