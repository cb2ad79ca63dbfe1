"""The run recorder: the one frame every command that writes runs in (``archiver run``, every
``backup``, ``batch``, ``import``, ``reflatten``, ``titles``, ``shared --refresh``,
``request-export``): take the database lock BEFORE opening the database (a second run exits
75 without touching it), mark rows of dead runs ``interrupted``, write a ``running`` row, do the
work, finish the row with status, exit code, counts and error."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from archiver.errors import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PARTIAL,
    ArchiverError,
)
from archiver.store import fts, open_db, runs
from archiver.store.lock import database_lock
from archiver.summary import Summary

log = logging.getLogger("archiver.runs")


RunSummary = Summary  # what recorded work returns: the one summary type


# "Worst" for a sequence of jobs, mildest first: a configuration error outranks everything,
# since no later run can fix it by itself.
_SEVERITY = (EXIT_OK, EXIT_PARTIAL, EXIT_LOCKED, EXIT_FAILED, EXIT_CONFIG)
_STATUS_BY_EXIT = {EXIT_OK: runs.STATUS_OK, EXIT_PARTIAL: runs.STATUS_PARTIAL}
_MAX_STORED_ERRORS = 5


@dataclass
class JobResult:
    job: str
    kind: str
    status: str  # ok | partial | failed | cooldown | interrupted | locked | config
    exit_code: int
    line: str  # the one-line summary
    errors: list[str] = field(default_factory=list)


def worst_exit_code(codes: Iterable[int]) -> int:
    rank = {code: i for i, code in enumerate(_SEVERITY)}
    return max(codes, key=lambda code: rank.get(code, len(_SEVERITY)), default=EXIT_OK)


def unexpected_error_text(exc: Exception) -> str:
    """A one-line description of an unexpected exception that cannot leak a secret: its class,
    for an OSError its strerror and file name, and where it was raised. Never ``str(exc)``: an
    HTTP library's message may carry a URL with its query string, a header or a body."""
    text = type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        text += f": {exc.strerror}"
        if exc.filename is not None:
            text += f": {exc.filename}"
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        where = frames[-1]
        text += f" (at {Path(where.filename).name}:{where.lineno})"
    return f"unexpected error: {text}"


def _stored_error(errors: Sequence[str]) -> str | None:
    if not errors:
        return None
    shown = list(errors[:_MAX_STORED_ERRORS])
    if len(errors) > _MAX_STORED_ERRORS:
        shown.append(f"... and {len(errors) - _MAX_STORED_ERRORS} more")
    return "\n".join(shown)


async def run_recorded(
    db_path: str | Path,
    *,
    job: str,
    kind: str,
    work: Callable[[sqlite_utils.Database], Awaitable[RunSummary]],
) -> JobResult:
    """Run ``work`` under the database lock and record it in ``runs``. LockedError (75) if
    another run holds the lock; an ArchiverError from ``work`` is recorded and re-raised."""
    with database_lock(db_path):
        db = open_db(db_path)
        try:
            # A bulk import killed before filling the search index: fill it before anything.
            repaired = fts.repair_index(db)
            if repaired:
                log.warning("indexed %d message(s) a killed import left unindexed", repaired)
            stale = runs.mark_stale_runs(db)
            if stale:
                log.warning(
                    "marked %d run(s) left 'running' by a dead process as interrupted", stale
                )
            run_id = runs.start_run(db, job, kind)
            try:
                summary = await work(db)
            except ArchiverError as exc:
                runs.finish_run(
                    db, run_id, status=runs.STATUS_FAILED, exit_code=exc.exit_code, error=str(exc)
                )
                raise
            except Exception as exc:  # a bug or an unwrapped library error: failed, not interrupted
                runs.finish_run(
                    db,
                    run_id,
                    status=runs.STATUS_FAILED,
                    exit_code=EXIT_FAILED,
                    error=unexpected_error_text(exc),
                )
                raise
            except BaseException:
                # Ctrl-C, SystemExit, cancellation: the row must not stay 'running'
                runs.finish_run(
                    db,
                    run_id,
                    status=runs.STATUS_INTERRUPTED,
                    exit_code=EXIT_INTERRUPTED,
                    error="interrupted",
                )
                raise
            status = summary.run_status or _STATUS_BY_EXIT.get(
                summary.exit_code, runs.STATUS_FAILED
            )
            errors = list(summary.errors)
            runs.finish_run(
                db,
                run_id,
                status=status,
                exit_code=summary.exit_code,
                counts=summary.counts(),
                error=_stored_error(errors),
            )
        finally:
            db.close()
    return JobResult(job, kind, status, summary.exit_code, summary.line(), errors)
