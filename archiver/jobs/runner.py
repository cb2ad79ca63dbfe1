"""Running job files: each job inside the run recorder (``archiver.recorder``), one result per
job; a failing job never stops the next."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from archiver.errors import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    ArchiverError,
    LockedError,
)
from archiver.jobs.config import JobConfig, load_job
from archiver.jobs.kinds import get_kind
from archiver.jobs.logs import REPORTED
from archiver.recorder import JobResult, run_recorded, unexpected_error_text
from archiver.store import runs

log = logging.getLogger("archiver.jobs")


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
