"""Progress reporting, kept apart from the work: the library reports, the CLI decides whether
anyone is watching (a bar on a terminal, nothing under cron)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, total: int | None, label: str) -> None: ...

    def advance(self, amount: int = 1) -> None: ...

    def finish(self) -> None: ...


class NullProgress:
    def start(self, total: int | None, label: str) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass
