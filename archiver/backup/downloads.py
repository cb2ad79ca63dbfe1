"""Downloads into the file store, as every provider's backup makes them: ChatGPT's files,
Copilot's images and Claude's uploads are counted the same way (a backup's summary shows them
under the kind's prefix), and one download's outcome is judged the same way
(``into_store``): stored, over the size limit, gone upstream (404: marked, never retried) or
failed (retried next run); a full disk, a refused sign-in or a challenge stops the phase.
The outcome is written onto the file's attachment rows (``recorder``).

The files are fetched several at once (``each_until_stopped``; the account's limiter paces the
requests), and a host that fails to connect several times in a row is not asked again this
run (``transport.http.HostBreaker``): its other files are recorded ``failed`` with the reason,
counted as ``deferred``, and retried on the next run, instead of each one paying its retries
and back-offs (an unreachable image host used to hold a backup for many minutes)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Protocol, TypeVar

from archiver.errors import (
    EXIT_FAILED,
    ArchiverError,
    HostUnreachable,
    NotFoundError,
    RateLimitExceeded,
    UpstreamError,
)
from archiver.store.edits import AttachmentKey, record_download
from archiver.store.filestore import FileStoreError, FileTooLarge, StoredFile
from archiver.timeutil import utc_now_iso
from archiver.transport.http import HostBreaker, HttpClient

if TYPE_CHECKING:
    import sqlite_utils

    from archiver.backup.engine import BackupSummary

# attachments.download_status values
STORED, GONE, FAILED, TOO_LARGE, SKIPPED = "stored", "gone", "failed", "too_large", "skipped"
T = TypeVar("T")


@dataclass
class DownloadSummary:
    stored: int = 0  # downloaded this run
    gone: int = 0  # upstream no longer has it (marked, never retried)
    failed: int = 0  # retried next run
    too_large: int = 0  # over the size limit: not stored
    deferred: int = 0  # not tried: its host stopped answering this run (retried next run)
    errors: list[str] = field(default_factory=list)
    aborted: ArchiverError | None = None  # stopped early (a challenge, a full disk)

    @property
    def partial(self) -> bool:
        """Files were left for the next run to retry."""
        return bool(self.failed or self.deferred)

    def report_into(self, backup: BackupSummary, prefix: str) -> None:
        """Add this phase to the backup's summary: its counts (``<prefix>_stored``, ...), its
        errors, and what it makes of the run (stopped; or partial, with files to retry)."""
        backup.extra.update(self.counts(prefix))
        backup.errors.extend(self.errors)
        if self.aborted is not None:
            backup.aborted = self.aborted
        elif self.partial:
            backup.failed_extra = True

    def counts(self, prefix: str) -> dict[str, int]:
        """Every count, named ``<prefix>_<field>``, for a backup summary's extra counts."""
        counts = {f"{prefix}_{f.name}": getattr(self, f.name) for f in fields(self)}
        # By value, not by annotation (a string or a type, depending on the module's imports).
        return {
            name: value
            for name, value in counts.items()
            if isinstance(value, int) and not isinstance(value, bool)
        }


class Record(Protocol):
    """Writes what became of one download onto its attachment rows."""

    def __call__(
        self, status: str, stored: StoredFile | None = None, error: str | None = None
    ) -> None: ...


def recorder(db: sqlite_utils.Database, keys: Sequence[AttachmentKey]) -> Record:
    """The Record that writes each outcome onto these attachment rows (a stored file's sha256
    and size with it)."""

    def record(status: str, stored: StoredFile | None = None, error: str | None = None) -> None:
        record_download(
            db,
            keys,
            status,
            sha256=stored.sha256 if stored else None,
            size=stored.size if stored else None,
            error=error,
            now=utc_now_iso(),
        )

    return record


def fails_alone(exc: UpstreamError) -> bool:
    """A failure of this one file (retried next run), as opposed to one that every later
    request would meet too (a refused sign-in, a challenge, a saturated account)."""
    return exc.exit_code == EXIT_FAILED and not isinstance(exc, RateLimitExceeded)


async def into_store(
    what: str,
    download: Callable[[], Awaitable[StoredFile]],
    record: Record,
    summary: DownloadSummary,
    *,
    noun: str = "file",
    alone: Callable[[UpstreamError], bool] = fails_alone,
) -> None:
    """Run ``download`` and record its outcome. ``what`` names the file in error lines,
    ``alone`` says which upstream errors fail this file only (the others stop the phase)."""
    try:
        stored = await download()
    except FileTooLarge as exc:
        summary.too_large += 1
        record(TOO_LARGE, error=str(exc))
    except FileStoreError:
        raise  # a full disk: every later file would fail too
    except NotFoundError:
        summary.gone += 1
        record(GONE, error=f"upstream answered 404 ({noun} gone)")
    except HostUnreachable as exc:  # its host was given up on this run
        summary.deferred += 1
        record(FAILED, error=str(exc))
    except UpstreamError as exc:
        if not alone(exc):
            raise
        summary.failed += 1
        summary.errors.append(f"{what}: {exc}")
        record(FAILED, error=str(exc))
    else:
        summary.stored += 1
        record(STORED, stored)


async def each_until_stopped(
    items: Iterable[T],
    one: Callable[[T], Awaitable[object]],
    summary: DownloadSummary,
    *,
    concurrency: int = 1,
    http: HttpClient | None = None,
) -> None:
    """``one(item)`` for every item, ``concurrency`` at a time, until one raises an
    ArchiverError: every worker stops there (what was stored is kept) and the error is the
    summary's. With ``http``, that client gives up on a host that keeps failing to connect,
    for this phase only."""
    queue = iter(items)

    async def worker() -> None:
        for item in queue:  # the shared iterator hands each item to exactly one worker
            await one(item)

    previous = None if http is None else http.hosts
    if http is not None:
        http.hosts = HostBreaker()
    workers = [asyncio.create_task(worker()) for _ in range(max(1, concurrency))]
    try:
        await asyncio.gather(*workers)
    except ArchiverError as exc:
        summary.aborted = exc
        summary.errors.append(str(exc))
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if http is not None:
            http.hosts = previous
