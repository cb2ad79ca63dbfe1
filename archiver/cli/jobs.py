"""``archiver run JOBFILE...`` and ``archiver schedule JOBFILE... [--systemd]``."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from archiver.cli.common import handle_errors, output_options, run_async
from archiver.cli.terminal import echo
from archiver.jobs.config import describe_job, load_job
from archiver.jobs.logs import job_logging
from archiver.jobs.runner import run_job_files
from archiver.jobs.schedule import schedule_text
from archiver.recorder import JobResult, worst_exit_code

job_files_argument = click.argument(
    "jobfiles", nargs=-1, required=True, type=click.Path(dir_okay=False)
)


def _printer(quiet: bool) -> Callable[[JobResult], None]:
    def report(result: JobResult) -> None:
        if result.exit_code == 0:
            if not quiet:
                echo(f"{result.job}: {result.line}")
            return
        for error in result.errors[:20]:
            echo(f"Error: {result.job}: {error}", err=True)
        if result.line not in result.errors:
            echo(f"{result.job}: {result.line}", err=True)

    return report


@click.command("run")
@job_files_argument
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False),
    help="Append log lines (job start, end, errors, retries) to this file (created 0600).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Only validate the job files and print each job's resolved options: no network, "
    "no database (exit 0, or 2 naming the file and key).",
)
@output_options
@handle_errors
def run_command(
    jobfiles: tuple[str, ...], log_file: str | None, check: bool, quiet: bool, verbose: bool
) -> None:
    """Run job files in order, each under its database's lock, recording each in `runs`.

    A failing job does not stop the next. Exit code: the worst of the jobs' (0 ok, 3 partial,
    75 locked, 1 failed, 2 config, from mildest to worst). See docs/jobs.md.
    """
    if check:
        for jobfile in jobfiles:
            echo(describe_job(load_job(jobfile)))
        return
    with job_logging(verbose=verbose, log_file=log_file):
        results = run_async(run_job_files(jobfiles, report=_printer(quiet)))
    code = worst_exit_code(result.exit_code for result in results)
    if code:
        sys.exit(code)


@click.command("schedule")
@job_files_argument
@click.option("--systemd", is_flag=True, help="Print a oneshot .service and a .timer per job.")
@click.option(
    "--log-dir",
    type=click.Path(file_okay=False),
    help="Where runs append their logs [default: ~/.local/state/archiver].",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    help="With --systemd: write the unit files into this directory instead of printing them.",
)
@handle_errors
def schedule_command(
    jobfiles: tuple[str, ...], systemd: bool, log_dir: str | None, output_dir: str | None
) -> None:
    """Print crontab lines (or systemd units) that run JOBFILEs on their `schedule`.

    Paths are absolute; credentials are never included (see the comment lines).
    """
    echo(schedule_text(list(jobfiles), systemd=systemd, log_dir=log_dir, output_dir=output_dir))
