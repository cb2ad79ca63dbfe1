"""The summary every account command returns: ``exit_code``, ``counts()``, ``line()``, the
interface the CLI and the job runner share with BackupSummary."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from archiver.errors import EXIT_OK, EXIT_PARTIAL, ArchiverError


@dataclass
class CountingSummary:
    """Subclasses declare their int counters as fields; ``failed`` makes a run partial."""

    label: str = ""
    aborted: ArchiverError | None = None
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    throttled: int = 0

    @property
    def exit_code(self) -> int:
        if self.aborted is not None:
            return self.aborted.exit_code
        return EXIT_PARTIAL if getattr(self, "failed", 0) else EXIT_OK

    def counts(self) -> dict[str, int]:
        names = [f.name for f in fields(self) if f.type in ("int", int)]
        # The request counters last, as in the backup summary.
        names.sort(key=lambda name: name in ("requests", "throttled"))
        return {name: getattr(self, name) for name in names}

    def line(self) -> str:
        return f"{self.label}: " + ", ".join(f"{k} {v}" for k, v in self.counts().items())

    def abort(self, error: ArchiverError) -> None:
        self.aborted = error
        self.errors.append(str(error))

    def take_stats(self, stats: object) -> None:
        self.requests = getattr(stats, "requests", 0)
        self.throttled = getattr(stats, "throttled", 0)
