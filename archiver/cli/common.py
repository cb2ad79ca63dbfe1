"""What every command shares: error → exit code mapping, quiet/verbose, the progress bar.

Commands are thin: they parse options, call one library function, print its summary."""

from __future__ import annotations

import functools
import logging
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, TypeVar

import click
import sqlite_utils

from archiver.cli.options import click_options
from archiver.cli.terminal import echo, terminal_text
from archiver.errors import EXIT_FAILED, EXIT_INTERRUPTED, ArchiverError
from archiver.interrupts import run_async
from archiver.options import FiniteFloatRange, Option
from archiver.recorder import RunSummary, run_recorded
from archiver.store import open_db
from archiver.transport.ratelimit import DEFAULT_MAX_WAIT

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
S = TypeVar("S", bound=RunSummary)


def handle_errors(command: F) -> F:
    """Expected failures print one clear line and exit with their documented code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ArchiverError as exc:
            echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        # Backstops for what the library does not expect: still one line, never a traceback.
        except OSError as exc:
            place = f": {exc.filename}" if exc.filename else ""
            echo(f"Error: {exc.strerror or type(exc).__name__}{place}", err=True)
            sys.exit(EXIT_FAILED)
        except sqlite3.Error as exc:
            echo(f"Error: database error ({exc})", err=True)
            sys.exit(EXIT_FAILED)
        except KeyboardInterrupt:
            echo("Interrupted: what was saved is kept; run again to resume.", err=True)
            sys.exit(EXIT_INTERRUPTED)

    return wrapper  # type: ignore[return-value]


def output_options(command: F, verbose_help: str = "Log each request and retry to stderr.") -> F:
    command = click.option("-v", "--verbose", is_flag=True, help=verbose_help)(command)
    command = click.option(
        "-q", "--quiet", is_flag=True, help="No progress bar and no summary (for cron)."
    )(command)
    return command


def max_wait_option(command: F) -> F:
    """The longest single wait a throttle (429 Retry-After) may impose before the run stops."""
    return click.option(
        "--max-wait",
        default=DEFAULT_MAX_WAIT,
        show_default=True,
        type=FiniteFloatRange(min=0),
        help="Seconds one throttle pause may last; beyond it stop (exit 3) and remember the "
        "cool-down so cron skips until then.",
    )(command)


def timeout_option(default: int, what: str = "a response") -> Callable[[F], F]:
    """``--timeout``: at least one second (0 or a negative value would mean none or always)."""
    return click.option(
        "--timeout",
        default=default,
        show_default=True,
        type=click.IntRange(min=1, max=86400),
        help=f"Seconds to wait for {what} (1 to 86400).",
    )


def local_output_options(command: F) -> F:
    """-q/-v for commands that make no requests (import, reflatten)."""
    return output_options(command, "Log what is done, step by step, to stderr.")


class _TerminalFormatter(logging.Formatter):
    """Log lines go to a terminal too: no control character of archived text in them."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_text(super().format(record))


def setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_TerminalFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])


class ClickProgress:
    """A progress bar on stderr, only when a person is watching a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self._bar: Any = None

    def start(self, total: int | None, label: str) -> None:
        if not self.enabled or not total:
            return
        self.finish()
        self._bar = click.progressbar(length=total, label=label, file=sys.stderr, show_eta=True)
        self._bar.__enter__()

    def advance(self, amount: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(amount)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def finish(summary_line: str, exit_code: int, *, quiet: bool, errors: list[str]) -> None:
    """Print the summary (unless quiet, or there were problems) and exit with the code."""
    if errors:
        for error in errors[:20]:
            echo(f"Error: {error}", err=True)
        if len(errors) > 20:
            echo(f"... and {len(errors) - 20} more", err=True)
    if not quiet or exit_code:
        echo(summary_line, err=quiet)
    if exit_code:
        sys.exit(exit_code)


def finish_recorded(
    db: str,
    job: str,
    work: Callable[[sqlite_utils.Database], Awaitable[RunSummary]],
    *,
    quiet: bool,
    kind: str | None = None,
) -> None:
    """A command that writes: ``work`` under the database's lock, recorded in `runs` (``kind``
    is the job's by default), then its summary and exit code as ``finish`` gives them."""
    result = run_async(run_recorded(db, job=job, kind=kind or job, work=work))
    finish(result.line, result.exit_code, quiet=quiet, errors=result.errors)


def run_summary(
    db: str,
    work: Callable[[sqlite_utils.Database], Coroutine[Any, Any, S]],
    *,
    job: str | None,
    kind: str | None = None,
) -> S:
    """``work``'s own summary. With a ``job`` it writes: under the database's lock and recorded
    in `runs` (``kind`` is the job's by default); without one it only reads the archive."""
    if job is None:
        return run_async(work(open_db(db)))
    summaries: list[S] = []

    async def recorded(database: sqlite_utils.Database) -> S:
        summaries.append(await work(database))
        return summaries[0]

    run_async(run_recorded(db, job=job, kind=kind or job, work=recorded))
    return summaries[0]


__all__ = [
    "EXIT_FAILED",
    "ClickProgress",
    "finish",
    "finish_recorded",
    "handle_errors",
    "output_options",
    "run_async",
    "run_summary",
]


db_argument = click.argument("db", type=click.Path(dir_okay=False))


def declared_command(
    name: str, help: str, options: Mapping[str, Option]
) -> Callable[[Callable[..., None]], click.Command]:
    """A command generated from a declaration (a provider's backup, a provider's tool): DB,
    the declared options as flags, -q/-v, and the expected failures as clean exits."""

    def make(function: Callable[..., None]) -> click.Command:
        return click.command(name, help=help)(
            db_argument(click_options(options)(output_options(handle_errors(function))))
        )

    return make
