"""The summary of an account command (titles, shared --refresh, request-export)."""

from __future__ import annotations

from dataclasses import dataclass

from archiver.summary import Summary


@dataclass(kw_only=True)
class CountingSummary(Summary):
    """Subclasses declare their int counters as fields; ``failed`` makes a run partial."""

    label: str = ""
    requests: int = 0
    throttled: int = 0

    def take_stats(self, stats: object) -> None:
        self.requests = getattr(stats, "requests", 0)
        self.throttled = getattr(stats, "throttled", 0)
