"""``archiver batch DB PROMPTS.csv`` and ``archiver results DB``."""

from __future__ import annotations

from typing import Any

import click

from archiver.batch import BatchOptions, ProviderOptions, run_batch, write_results
from archiver.batch.results import FORMATS
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
from archiver.providers.bing.client import BingSettings
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.store import open_db


class BatchProgress(ClickProgress):
    """The bar's label follows the counts: done, failed, rate (click adds the ETA)."""

    def describe(self, text: str) -> None:
        if self._bar is not None:
            self._bar.label = text


@click.command("batch")
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("prompts", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--provider", type=click.Choice(["chatgpt", "bing"]), default="chatgpt", show_default=True
)
@click.option(
    "--template", help="Build each prompt from columns, e.g. 'Summarise {title}: {body}'."
)
@click.option(
    "--model",
    help="Model slug (ChatGPT) or tone (Bing: Creative, Balanced, Precise) for rows without a model column.",
)
@click.option(
    "--max-rpm",
    default=20.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Requests per minute at most, for the whole account.",
)
@click.option(
    "--burst",
    default=1,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Requests that may go at once after a quiet spell (never beyond --max-rpm on average).",
)
@click.option(
    "--concurrency",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads (conversations) in flight at once.",
)
@click.option(
    "--max-attempts",
    default=5,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Tries per prompt for transient failures (5xx, timeouts, broken streams).",
)
@click.option("--retry-failed", is_flag=True, help="Also send again the rows that failed before.")
@click.option("--cleanup", is_flag=True, help="Hide/delete the conversations upstream afterwards.")
@click.option(
    "--conversation-path",
    default="conversation",
    show_default=True,
    help="ChatGPT: the path prompts are posted to (f/conversation on today's web app).",
)
@click.option("--history-disabled", is_flag=True, help="ChatGPT: ask not to keep the chats.")
@click.option("--autocontinue", is_flag=True, help="ChatGPT: continue answers cut at max_tokens.")
@click.option(
    "--first-parent",
    type=click.Choice(["client-created-root", "uuid"]),
    default="client-created-root",
    show_default=True,
    help="ChatGPT: parent_message_id of a conversation's first prompt.",
)
@click.option("--no-archive", is_flag=True, help="Do not copy the conversations into the archive.")
@timeout_option(300, "an answer")
@max_wait_option
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False),
    help="ChatGPT: read the access token from this 0600 file instead of CHATGPT_ACCESS_TOKEN.",
)
@click.option(
    "--cookie-file",
    type=click.Path(dir_okay=False),
    help="Bing: read the cookie from this 0600 file instead of BING_COOKIE.",
)
@output_options
@handle_errors
def batch_command(
    db: str,
    prompts: str,
    provider: str,
    template: str | None,
    model: str | None,
    max_rpm: float,
    burst: int,
    concurrency: int,
    max_attempts: int,
    retry_failed: bool,
    cleanup: bool,
    conversation_path: str,
    history_disabled: bool,
    autocontinue: bool,
    first_parent: str,
    no_archive: bool,
    timeout: int,
    max_wait: float,
    token_file: str | None,
    cookie_file: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Send every row's prompt of PROMPTS (a UTF-8 CSV) through a chat account; record every
    answer in DB.

    Columns: 'prompt' (or --template over any columns), optional 'id' (stable row key),
    'thread' (rows sharing it form one conversation, in file order) and 'model'. The whole file
    is checked before anything is sent. Run it again to resume: rows already answered are
    skipped. Exit codes: 0 all answered, 2 bad input/auth/config, 3 some rows failed or the
    account's quota stopped the run.
    """
    setup_logging(verbose)
    settings: Any
    if provider == "chatgpt":
        settings = ChatGPTSettings.from_env(token_file)
    else:
        settings = BingSettings.from_env(cookie_file)
    options = BatchOptions(
        provider=provider,
        model=model,
        template=template,
        max_rpm=max_rpm,
        burst=burst,
        concurrency=concurrency,
        max_attempts=max_attempts,
        retry_failed=retry_failed,
        cleanup=cleanup,
        archive=not no_archive,
        max_wait=max_wait,
        provider_options=ProviderOptions(
            conversation_path=conversation_path,
            history_disabled=history_disabled,
            autocontinue=autocontinue,
            first_parent=first_parent,
            timeout_seconds=float(timeout),
        ),
    )
    # Under the database lock: two batches on one archive would send every prompt twice.
    result = run_async(
        run_recorded(
            db,
            job="batch",
            kind="batch",
            work=lambda database: run_batch(
                database, prompts, options, settings, BatchProgress(not quiet)
            ),
        )
    )
    finish(result.line, result.exit_code, quiet=quiet, errors=result.errors)


@click.command("results")
@click.argument("db", type=click.Path(dir_okay=False, exists=True))
@click.option("--run", "run_id", type=int, help="The batch run (default: the latest).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@handle_errors
def results_command(db: str, run_id: int | None, fmt: str, out: str | None) -> None:
    """Write a batch run's answers in input order, with each row's key and status.

    In CSV, cells a spreadsheet would run as a formula get a leading apostrophe.
    """
    write_results(open_db(db), run_id, fmt, out)
