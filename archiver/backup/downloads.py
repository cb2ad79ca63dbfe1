"""Downloads into the file store, as every provider's backup makes them: ChatGPT's files,
Copilot's images and Claude's uploads are counted the same way (a backup's summary shows them
under the kind's prefix), and one download's outcome is judged the same way
(``into_store``): stored, over the size limit, gone upstream (404: marked, never retried) or
failed (retried next run); a full disk, a refused sign-in or a challenge stops the phase."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Protocol, TypeVar

from archiver.errors import (
    EXIT_FAILED,
    ArchiverError,
    NotFoundError,
    RateLimitExceeded,
    UpstreamError,
)
from archiver.store.filestore import FileStoreError, FileTooLarge, StoredFile

# attachments.download_status values
STORED, GONE, FAILED, TOO_LARGE, SKIPPED = "stored", "gone", "failed", "too_large", "skipped"
T = TypeVar("T")


@dataclass
class DownloadSummary:
    stored: int = 0  # downloaded this run
    gone: int = 0  # upstream no longer has it (marked, never retried)
    failed: int = 0  # retried next run
    too_large: int = 0  # over the size limit: not stored
    errors: list[str] = field(default_factory=list)
    aborted: ArchiverError | None = None  # stopped early (a challenge, a full disk)

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
    items: Iterable[T], one: Callable[[T], Awaitable[object]], summary: DownloadSummary
) -> None:
    """``one(item)`` for every item, until one raises an ArchiverError: the phase stops there
    (what was stored is kept) and the error is the summary's."""
    for item in items:
        try:
            await one(item)
        except ArchiverError as exc:
            summary.aborted = exc
            summary.errors.append(str(exc))
            return
