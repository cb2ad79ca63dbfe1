"""``archiver backup chatgpt|bing DB``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from archiver.backup.engine import BackupOptions
from archiver.cli.common import (
    ClickProgress,
    finish,
    handle_errors,
    max_wait_option,
    output_options,
    run_async,
    setup_logging,
    timeout_option,
)
from archiver.jobs.runner import run_recorded
from archiver.providers.bing.backup import backup_bing
from archiver.providers.bing.client import BingSettings
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.providers.chatgpt.jobs import backup_chatgpt_guarded
from archiver.transport.http import RetryPolicy

F = TypeVar("F", bound=Callable[..., Any])

db_argument = click.argument("db", type=click.Path(dir_okay=False))
token_file_option = click.option(
    "--token-file",
    type=click.Path(dir_okay=False),
    help="Read the secret from this file (must be mode 0600) instead of the environment.",
)

force_option = click.option(
    "--force",
    is_flag=True,
    help="With --full: mark even when the list came back empty or far shorter than the archive.",
)


def rate_options(default_rpm: float) -> Callable[[F], F]:
    """--concurrency and --max-rpm, with a default rate suited to the upstream."""

    def decorate(command: F) -> F:
        command = click.option(
            "--concurrency",
            default=2,
            show_default=True,
            type=click.IntRange(1, 32),
            help="Requests in flight at once.",
        )(command)
        command = click.option(
            "--max-rpm",
            default=default_rpm,
            show_default=True,
            type=click.FloatRange(min=0.1),
            help="Requests per minute at most, for the whole run.",
        )(command)
        return command

    return decorate


@click.group()
def backup() -> None:
    """Back up conversations from an upstream into an archive database."""


@backup.command("chatgpt")
@db_argument
@click.option("--full", is_flag=True, help="Walk the whole list; mark conversations gone upstream.")
@force_option
@click.option("--no-archived", is_flag=True, help="Skip the list of archived chats.")
@click.option(
    "--no-snapshot",
    is_flag=True,
    help="Do not record plan, models and limits first (saves 4 requests per run).",
)
@rate_options(default_rpm=30)
@timeout_option(120)
@max_wait_option
@click.option(
    "--ignore-cooldown",
    is_flag=True,
    help="Run even if a recent 429 left the account cooling down.",
)
@token_file_option
@output_options
@handle_errors
def backup_chatgpt_command(
    db: str,
    full: bool,
    force: bool,
    no_archived: bool,
    no_snapshot: bool,
    concurrency: int,
    max_rpm: float,
    timeout: int,
    max_wait: float,
    ignore_cooldown: bool,
    token_file: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Archive every ChatGPT conversation, every branch, into DB.

    Reads the access token from CHATGPT_ACCESS_TOKEN (or --token-file), the base URL from
    CHATGPT_BASE_URL and an optional team workspace from CHATGPT_ACCOUNT_ID. Later runs fetch
    only what changed. One run per DB at a time; each run is recorded in the `runs` table. If
    a 429 left the account cooling down, waits up to 5 minutes, else skips (exit 0).
    Exit codes: 0 ok, 1 failed, 2 usage/auth/config, 3 partial, 75 DB in use by another run.
    """
    setup_logging(verbose)
    settings = ChatGPTSettings.from_env(token_file)
    result = run_async(
        run_recorded(
            db,
            job="backup chatgpt",
            kind="backup chatgpt",
            work=lambda database: backup_chatgpt_guarded(
                database,
                settings,
                options=BackupOptions(full=full, concurrency=concurrency, force=force),
                ignore_cooldown=ignore_cooldown,
                include_archived=not no_archived,
                max_rpm=max_rpm,
                timeout_seconds=timeout,
                policy=RetryPolicy(max_wait=max_wait),
                progress=ClickProgress(not quiet),
                snapshot=not no_snapshot,
            ),
        )
    )
    finish(result.line, result.exit_code, quiet=quiet, errors=result.errors)


@backup.command("bing")
@db_argument
@click.option(
    "--full", is_flag=True, help="Also mark chats no longer listed upstream (they are kept)."
)
@force_option
@rate_options(default_rpm=20)
@timeout_option(120)
@max_wait_option
@click.option(
    "--cookie-file",
    type=click.Path(dir_okay=False),
    help="Read the Bing cookie from this file (must be mode 0600) instead of BING_COOKIE.",
)
@output_options
@handle_errors
def backup_bing_command(
    db: str,
    full: bool,
    force: bool,
    concurrency: int,
    max_rpm: float,
    timeout: int,
    max_wait: float,
    cookie_file: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Archive every saved Bing chat (the chat list and each chat's history) into DB.

    Reads the cookie from BING_COOKIE (a _U value or a whole Cookie header) or --cookie-file,
    and the hosts from BING_BASE_URL and SYDNEY_BASE_URL. Later runs fetch only chats whose
    update time changed. Exit codes: 0 ok, 1 failed, 2 usage/auth/config, 3 partial
    (some chats failed, or Bing throttled or asked for a CAPTCHA: what was archived is kept).
    """
    setup_logging(verbose)
    settings = BingSettings.from_env(cookie_file)
    result = run_async(
        run_recorded(
            db,
            job="backup bing",
            kind="backup bing",
            work=lambda database: backup_bing(
                database,
                settings,
                options=BackupOptions(full=full, concurrency=concurrency, force=force),
                max_rpm=max_rpm,
                timeout_seconds=timeout,
                policy=RetryPolicy(max_wait=max_wait),
                progress=ClickProgress(not quiet),
            ),
        )
    )
    finish(result.line, result.exit_code, quiet=quiet, errors=result.errors)
