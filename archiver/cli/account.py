"""Account tools: ``doctor``, ``shared``, ``titles``, ``request-export``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click
import sqlite_utils

from archiver.account.doctor import run_doctor
from archiver.account.export_request import ExportRequestSummary, request_export
from archiver.account.shared import SharedReport, shared_links_report
from archiver.account.titles import TitlesSummary, generate_titles
from archiver.cli.common import (
    finish,
    finish_recorded,
    handle_errors,
    output_options,
    run_async,
    run_summary,
    setup_logging,
)
from archiver.config import env_base_url
from archiver.providers import registry
from archiver.providers.chatgpt.client import DEFAULT_BASE_URL, ChatGPTSettings
from archiver.transport.pace import ClientPace

F = TypeVar("F", bound=Callable[..., Any])

max_rpm_option = click.option(
    "--max-rpm",
    default=30,
    show_default=True,
    type=click.FloatRange(min=0.1),
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


@click.command("doctor")
@click.option(
    "--provider",
    type=click.Choice(registry.names()),
    default="chatgpt",
    show_default=True,
    help="Which upstream to check.",
)
@token_file_option("the token (chatgpt, copilot) or cookie (bing)")
@session_file_option
@click.option("--timeout", default=30, show_default=True, help="Seconds to wait per request.")
@output_options
@handle_errors
def doctor_command(
    provider: str,
    token_file: str | None,
    session_file: str | None,
    timeout: int,
    quiet: bool,
    verbose: bool,
) -> None:
    """Check credentials and base URL before a job goes into cron.

    ChatGPT: CHATGPT_ACCESS_TOKEN, CHATGPT_BASE_URL, CHATGPT_ACCOUNT_ID; asks accounts/check,
    models, settings/beta_features and public-api/conversation_limit, and compares the
    server's clock with ours. Bing: BING_COOKIE, BING_BASE_URL; lists the saved chats. Copilot:
    COPILOT_ACCESS_TOKEN, COPILOT_IDENTITY_TYPE, COPILOT_BASE_URL; lists one page.
    Prints ok/WARN/FAIL per check with the reason. Exit codes: 0 all ok (warnings allowed),
    2 credentials or configuration wrong, 1 other failures.
    """
    setup_logging(verbose)
    report = run_async(
        run_doctor(
            provider, token_file=token_file, session_file=session_file, timeout_seconds=timeout
        )
    )
    if not quiet or report.exit_code:
        for line in report.lines():
            click.echo(line)
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
        click.echo(line)
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
                click.echo(f"would ask  {change.conversation_id}  {old}")
            else:
                click.echo(f"{change.how:<9}  {change.conversation_id}  {old} -> {change.new}")
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
