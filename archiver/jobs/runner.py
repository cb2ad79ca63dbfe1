"""Running jobs: one database lock per run, a ``runs`` row per run, one result per job.

``run_recorded`` is the frame every recorded run uses (``archiver run`` and the direct
``archiver backup chatgpt``): take the lock BEFORE opening the database (a second run exits 75
without touching it), mark rows of dead runs ``interrupted``, write a ``running`` row, do the
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
    LockedError,
)
from archiver.jobs.config import JobConfig, load_job
from archiver.jobs.kinds import JobSummary, get_kind
from archiver.jobs.logs import REPORTED
from archiver.store import open_db, runs
from archiver.store.lock import database_lock

log = logging.getLogger("archiver.jobs")


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
    work: Callable[[sqlite_utils.Database], Awaitable[JobSummary]],
) -> JobResult:
    """Run ``work`` under the database lock and record it in ``runs``. LockedError (75) if
    another run holds the lock; an ArchiverError from ``work`` is recorded and re-raised."""
    with database_lock(db_path):
        db = open_db(db_path)
        try:
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
            status = getattr(summary, "run_status", None) or _STATUS_BY_EXIT.get(
                summary.exit_code, runs.STATUS_FAILED
            )
            errors = list(getattr(summary, "errors", []) or [])
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


async def run_job(job: JobConfig) -> JobResult:
    kind = get_kind(job.kind)
    return await run_recorded(
        job.db, job=job.name, kind=job.kind, work=lambda db: kind.run(db, job)
    )


async def run_job_files(
    paths: Sequence[str | Path],
    *,
    report: Callable[[JobResult], None] | None = None,
) -> list[JobResult]:
    """Run job files in order; a failing job does not stop the next. ``report`` sees each result
    as soon as its job ends."""
    results = []
    for path in paths:
        name, kind = Path(path).stem, ""
        try:
            job = load_job(path)
            name, kind = job.name, job.kind
            log.info("job %s (%s) starting: %s", name, kind, job.db)
            result = await run_job(job)
        except LockedError as exc:
            result = JobResult(name, kind, "locked", exc.exit_code, str(exc), [str(exc)])
        except ArchiverError as exc:
            status = "config" if exc.exit_code == EXIT_CONFIG and not kind else "failed"
            result = JobResult(name, kind, status, exc.exit_code, str(exc), [str(exc)])
        except Exception as exc:  # a crashing job must not stop the next ones
            message = unexpected_error_text(exc)
            # Where it crashed helps with a bug; the frames hold file names and source lines,
            # the exception's own message (which may hold a secret) is left out.
            frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
            log.info("job %s crashed here (exception message left out):\n%s", name, frames)
            result = JobResult(name, kind, runs.STATUS_FAILED, EXIT_FAILED, message, [message])
        _log_result(result)
        if report is not None:
            report(result)
        results.append(result)
    return results


def _log_result(result: JobResult) -> None:
    """One record for the job's end and one per further error: ``report`` already shows them on
    the terminal, so the console handler skips them (REPORTED) and they reach the log file once."""
    level = logging.INFO if result.exit_code == EXIT_OK else logging.ERROR
    extra = {REPORTED: True}
    log.log(
        level,
        "job %s: %s, exit %d: %s",
        result.job,
        result.status,
        result.exit_code,
        result.line,
        extra=extra,
    )
    for error in [e for e in result.errors if e != result.line][:20]:
        log.log(level, "job %s: %s", result.job, error, extra=extra)
