"""The options every provider's backup takes, declared once: pace, how much to walk, and
what to do about throttling. A provider's ``jobs.py`` adds only its own (hosts, credentials,
files) to these; the CLI flags and the job-file keys both come from the result. What their
values ask for reaches a provider's backup function as one ``BackupRun``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from archiver.cooldown import cooldown_options
from archiver.options import Option, boolean, integer, non_negative_number, positive_number
from archiver.transport.ratelimit import DEFAULT_MAX_WAIT

if TYPE_CHECKING:
    import sqlite_utils

    from archiver.backup.engine import BackupOptions, BackupSummary
    from archiver.progress import Progress
    from archiver.store.filestore import FileStore
    from archiver.transport.http import RetryPolicy
    from archiver.transport.pace import ClientPace


def common_backup_options(
    *, default_rpm: float, listed: str = "conversations"
) -> dict[str, Option]:
    return {
        "full": Option(
            boolean, False, f"Walk the whole list; mark {listed} gone upstream (they are kept)."
        ),
        "force": Option(
            boolean, False, "With --full: mark even after an empty or implausibly short list."
        ),
        "concurrency": Option(integer(1, 32), 2, "Requests in flight at once."),
        "max_rpm": Option(positive_number, default_rpm, "Requests per minute at most."),
        "timeout": Option(positive_number, 120.0, "Seconds to wait for a response."),
        "max_wait": Option(
            non_negative_number,
            DEFAULT_MAX_WAIT,
            "Seconds one throttle pause may last; beyond it stop (exit 3) and remember the "
            "cool-down.",
        ),
        **cooldown_options(),
    }


def file_options(what: str = "files messages point at") -> dict[str, Option]:
    """``--no-files`` and ``--max-file-mb``, for every provider whose backup downloads."""
    return {
        "no_files": Option(boolean, False, f"Do not download the {what}."),
        "max_file_mb": Option(
            positive_number, None, "Skip files larger than this many MB (recorded as too_large)."
        ),
    }


@dataclass(frozen=True)
class FileDownloads:
    """What a backup does about the files messages point at: whether it downloads them
    (``--no-files``), the size limit (``--max-file-mb``) and the store (None: the one beside
    the database)."""

    download: bool = True
    max_bytes: int | None = None
    store: FileStore | None = None

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> FileDownloads:
        """From ``no_files`` and ``max_file_mb`` of the backup's option values."""
        mb = values.get("max_file_mb")
        return cls(
            download=not values.get("no_files", False),
            max_bytes=None if mb is None else int(mb * 1024 * 1024),
        )


def backup_pace(values: Mapping[str, Any], policy: RetryPolicy | None = None) -> ClientPace:
    """The pace the common options (max_rpm, max_wait, timeout) ask for; ``policy`` replaces
    the default policy with that max_wait."""
    from archiver.transport.http import RetryPolicy
    from archiver.transport.pace import ClientPace

    return ClientPace(
        values["max_rpm"],
        policy=policy or RetryPolicy(max_wait=values.get("max_wait", DEFAULT_MAX_WAIT)),
        timeout_seconds=values["timeout"],
    )


def backup_options(values: Mapping[str, Any]) -> BackupOptions:
    """How much to walk, as the common options (full, force, concurrency) ask."""
    from archiver.backup.engine import BackupOptions

    return BackupOptions(
        full=values["full"],
        concurrency=values["concurrency"],
        force=bool(values.get("force", False)),
    )


@dataclass(frozen=True)
class BackupRun:
    """What every provider's backup function is given besides the database and the account:
    the pace of its requests, how much to walk (None: the engine's defaults), where its
    progress goes and, for a backup that downloads, what it does about the files."""

    pace: ClientPace
    options: BackupOptions | None = None
    progress: Progress | None = None
    files: FileDownloads = field(default_factory=FileDownloads)

    @classmethod
    def from_values(cls, values: Mapping[str, Any], progress: Progress | None) -> BackupRun:
        """The run the options ask for: ``options`` from full, force and concurrency, ``pace``
        from max_rpm, max_wait and timeout, ``files`` from no_files and max_file_mb."""
        return cls(
            backup_pace(values), backup_options(values), progress, FileDownloads.from_values(values)
        )


Settings = TypeVar("Settings")
BackupFunction = Callable[
    ["sqlite_utils.Database", Settings, BackupRun], Awaitable["BackupSummary"]
]


def with_option_values(
    backup: BackupFunction[Settings],
) -> Callable[
    [sqlite_utils.Database, Settings, Mapping[str, Any], Progress | None], Awaitable[BackupSummary]
]:
    """The contract's ``back_up`` (``archiver/providers/modules.py``) over a provider's backup
    function: ``backup`` called with the run its option values ask for."""

    async def back_up(
        db: sqlite_utils.Database,
        settings: Settings,
        values: Mapping[str, Any],
        progress: Progress | None,
    ) -> BackupSummary:
        return await backup(db, settings, BackupRun.from_values(values, progress))

    return back_up
