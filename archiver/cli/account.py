"""Account tools: ``doctor``, ``shared``, ``titles``, ``request-export``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import click
import sqlite_utils

from archiver.cli.common import (
    finish,
    finish_recorded,
    handle_errors,
    output_options,
    run_async,
    run_summary,
    setup_logging,
)
from archiver.cli.options import click_options
from archiver.cli.terminal import echo
from archiver.config import env_base_url
from archiver.doctor import run_doctor
from archiver.options import FiniteFloatRange, Option
from archiver.providers import registry
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.providers.chatgpt.export_request import ExportRequestSummary, request_export
from archiver.providers.chatgpt.options import DEFAULT_BASE_URL
from archiver.providers.chatgpt.shared import SharedReport, shared_links_report
from archiver.providers.chatgpt.titles import TitlesSummary, generate_titles
from archiver.transport.pace import ClientPace

F = TypeVar("F", bound=Callable[..., Any])

max_rpm_option = click.option(
    "--max-rpm",
    default=30,
    show_default=True,
    type=FiniteFloatRange(min=0.1),
    help="Requests per minute at most.",
)

db_argument = click.argument("db", type=click.Path(dir_okay=False))
session_file_option = click.option(
    "--session-file",
    type=click.Path(dir_okay=False),
    help="Sign in with the browser's session cookie from this 0600 file (else "
    "CHATGPT_SESSION_TOKEN, else the access token).",
)


def token_file_option(what: str = "the secret") -> Callable[[F], F]:
    """``--token-file``: the credential from a 0600 file instead of the environment."""
    return click.option(
        "--token-file",
        type=click.Path(dir_okay=False),
        help=f"Read {what} from this file (must be mode 0600) instead of the environment.",
    )


def _doctor_providers() -> tuple[str, ...]:
    return tuple(p.name for p in registry.with_capability("doctor"))


def credential_file_options(providers: list[registry.Provider]) -> dict[str, Option]:
    """Every credential-file option of ``providers`` (``--token-file``, ``--cookie-file``...),
    once each, with a help text that fits all of them."""
    found: dict[str, Option] = {}
    for provider in providers:
        for key, option in provider.credential_options().items():
            stem = key.removesuffix("_file").replace("_", " ")
            found.setdefault(
                key,
                replace(
                    option,
                    help=f"Read the {stem} from this file (mode 0600) instead of the environment.",
                ),
            )
    return found


DOCTOR_FILES = credential_file_options(registry.with_capability("doctor"))


@click.command("doctor")
@click.option(
    "--provider",
    type=click.Choice(_doctor_providers()),
    default=_doctor_providers()[0],
    show_default=True,
    help="Which upstream to check.",
)
@click_options(DOCTOR_FILES)
@click.option(
    "--timeout",
    default=30,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds to wait per request (1 to 3600).",
)
@output_options
@handle_errors
def doctor_command(
    provider: str, timeout: int, quiet: bool, verbose: bool, **files: str | None
) -> None:
    """Check credentials and base URL before a job goes into cron.

    Reads the provider's credential and hosts as its backup does (environment variables, or a
    0600 file) and asks the upstream the cheapest questions that prove them. Prints
    ok/WARN/FAIL per check with the reason. Exit codes: 0 all ok (warnings allowed),
    2 credentials or configuration wrong, 1 other failures.
    """
    setup_logging(verbose)
    report = run_async(run_doctor(registry.get(provider), files, timeout_seconds=timeout))
    if not quiet or report.exit_code:
        for line in report.lines():
            echo(line)
    finish(report.line(), report.exit_code, quiet=quiet, errors=[])


@dataclass(frozen=True)
class AccountRun:
    """The options of every account tool that may ask ChatGPT (shared, titles): one value
    instead of the same five keyword parameters on each command."""

    max_rpm: float
    token_file: str | None
    session_file: str | None
    quiet: bool
    verbose: bool

    def settings(self) -> ChatGPTSettings:
        return ChatGPTSettings.from_env(self.token_file, session_file=self.session_file)

    def pace(self) -> ClientPace:
        """--max-rpm, with the default retry policy and read timeout."""
        return ClientPace(self.max_rpm)


def account_run_options(command: Callable[..., None]) -> Callable[..., None]:
    """--max-rpm, --token-file, --session-file and -q/-v, handed to ``command`` as ``run``."""

    @functools.wraps(command)
    def with_run(
        *args: Any,
        max_rpm: float,
        token_file: str | None,
        session_file: str | None,
        quiet: bool,
        verbose: bool,
        **kwargs: Any,
    ) -> None:
        run = AccountRun(max_rpm, token_file, session_file, quiet, verbose)
        command(*args, run=run, **kwargs)

    for option in (output_options, session_file_option, token_file_option(), max_rpm_option):
        with_run = option(with_run)
    return with_run


@click.command("shared")
@db_argument
@click.option(
    "--refresh", is_flag=True, help="Fetch the list from ChatGPT first (needs the token)."
)
@click.option("--include-deleted", is_flag=True, help="Also list links no longer shared.")
@account_run_options
@handle_errors
def shared_command(db: str, refresh: bool, include_deleted: bool, run: AccountRun) -> None:
    """List which archived conversations are publicly shared (created, link, title).

    Without --refresh it reads the archive only. With --refresh it first reads
    shared_conversations from ChatGPT and archives it; links no longer listed are marked
    as unshared, never deleted. Exit codes: 0 ok, 1 other failures, 2 token refused,
    3 stopped by a challenge page or a throttle (what was read is kept).
    """
    setup_logging(run.verbose)
    settings = run.settings() if refresh else None
    base_url = env_base_url("CHATGPT_BASE_URL", DEFAULT_BASE_URL)

    async def work(database: sqlite_utils.Database) -> SharedReport:
        return await shared_links_report(
            database,
            settings=settings,
            include_deleted=include_deleted,
            pace=run.pace(),
            base_url=base_url,
        )

    # With --refresh it writes: under the lock and recorded in `runs`.
    report = run_summary(db, work, job="shared" if refresh else None, kind="shared --refresh")
    for line in report.lines():
        echo(line)
    finish(report.line(), report.exit_code, quiet=run.quiet, errors=report.errors)


@click.command("titles")
@db_argument
@click.option(
    "--all",
    "all_conversations",
    is_flag=True,
    help="Ask for every conversation, not only untitled ones (the archive takes the title "
    "upstream has; upstream never replaces a real title).",
)
@click.option("--dry-run", is_flag=True, help="Only list what would be asked; send nothing.")
@account_run_options
@handle_errors
def titles_command(db: str, all_conversations: bool, dry_run: bool, run: AccountRun) -> None:
    """Give untitled ChatGPT conversations (no title, or "New chat") a title.

    Asks conversation/gen_title for each, which sets the title upstream, and writes it to
    the archive. When upstream keeps a "New chat" placeholder, the first line of the first
    prompt is sent with PATCH instead. Only untitled conversations by default (--all for
    every one); --dry-run needs no token. Exit codes: 0 ok, 2 token refused, 3 some failed.
    """
    setup_logging(run.verbose)
    settings = None if dry_run else run.settings()

    async def work(database: sqlite_utils.Database) -> TitlesSummary:
        return await generate_titles(
            database,
            settings,
            missing_only=not all_conversations,
            dry_run=dry_run,
            pace=run.pace(),
        )

    # Unless a dry run it writes: under the lock and recorded in `runs`.
    summary = run_summary(db, work, job=None if dry_run else "titles")
    if not run.quiet:
        for change in summary.changes:
            old = change.old if change.old is not None else "(none)"
            if change.how == "would-ask":
                echo(f"would ask  {change.conversation_id}  {old}")
            else:
                echo(f"{change.how:<9}  {change.conversation_id}  {old} -> {change.new}")
    finish(summary.line(), summary.exit_code, quiet=run.quiet, errors=summary.errors)


@click.command("request-export")
@db_argument
@token_file_option()
@session_file_option
@output_options
@handle_errors
def request_export_command(
    db: str, token_file: str | None, session_file: str | None, quiet: bool, verbose: bool
) -> None:
    """Ask ChatGPT to e-mail the official data export (POST accounts/data_export).

    The request and its answer are recorded in the export_requests table. Import the zip
    when it arrives. Exit codes: 0 ok, 2 token refused, 1 other failures.
    """
    setup_logging(verbose)
    settings = ChatGPTSettings.from_env(
        token_file, session_file=session_file
    )  # before the database: no token, no change

    async def work(database: sqlite_utils.Database) -> ExportRequestSummary:
        return await request_export(database, settings)

    finish_recorded(db, "request-export", work, quiet=quiet)
