"""``archiver doctor``: are a provider's credentials and base URL right? (Each provider's
own account tools, such as ``shared``, are generated from its declaration: ``tools.py``.)"""

from __future__ import annotations

from dataclasses import replace

import click

from archiver.cli.common import finish, handle_errors, output_options, run_async, setup_logging
from archiver.cli.options import click_options
from archiver.cli.terminal import echo
from archiver.doctor import run_doctor
from archiver.options import Option
from archiver.providers import registry


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
