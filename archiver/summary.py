"""The one summary type every run returns: backups, imports, batches, account commands,
reflatten, a job skipped for a cool-down.

The run recorder, the CLI and the job runner read only what this base declares: ``exit_code``,
``counts()`` (stored in ``runs.counts_json``), ``line()`` (printed after every run), ``errors``
(one-line messages, never secrets) and ``run_status`` (the ``runs`` status when the exit code
alone cannot say it, as for a cool-down skip). Subclasses declare their counters as int fields
and say what makes them partial; one that sends requests upstream derives from
``RequestSummary``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import ClassVar

from archiver.errors import EXIT_OK, EXIT_PARTIAL, ArchiverError


@dataclass(kw_only=True)
class Summary:
    aborted: ArchiverError | None = None  # the error that stopped the run early, if any
    errors: list[str] = field(default_factory=list)
    # None: the recorder derives the status from the exit code.
    run_status: ClassVar[str | None] = None
    # Counters shown last in the line, in this order (request accounting).
    TRAILING: ClassVar[tuple[str, ...]] = ("requests", "throttled")

    @property
    def label(self) -> str:
        """What the summary line starts with."""
        return type(self).__name__.removesuffix("Summary").lower()

    @property
    def partial(self) -> bool:
        """Something failed while the rest completed (exit 3)."""
        return bool(self.counts().get("failed"))

    @property
    def exit_code(self) -> int:
        if self.aborted is not None:
            return self.aborted.exit_code
        return EXIT_PARTIAL if self.partial else EXIT_OK

    def counts(self) -> dict[str, int]:
        """Every int field, the trailing request counters last."""
        names = [f.name for f in fields(self) if f.type in ("int", int)]
        ordered = [n for n in names if n not in self.TRAILING]
        ordered += [n for n in self.TRAILING if n in names]
        return {name: getattr(self, name) for name in ordered}

    def line(self) -> str:
        return f"{self.label}: " + ", ".join(f"{k} {v}" for k, v in self.counts().items())

    def abort(self, error: ArchiverError) -> None:
        self.aborted = error
        self.errors.append(str(error))


@dataclass(kw_only=True)
class RequestSummary(Summary):
    """A run that sent requests upstream: how many, and how many of them were throttled (the
    ``TRAILING`` counters, so where they are declared does not move them in the line)."""

    requests: int = 0
    throttled: int = 0

    def take_requests(self, stats: Mapping[str, int]) -> None:
        """The counts of the run's client (a source's ``request_stats()``), read at its end."""
        self.requests = stats.get("requests", 0)
        self.throttled = stats.get("throttled", 0)
