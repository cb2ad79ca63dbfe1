"""``archiver serve DB`` and ``archiver keys add|list|revoke DB``."""

from __future__ import annotations

import logging
from typing import Any

import click

from archiver.cli.common import handle_errors, setup_logging
from archiver.cli.options import click_options, with_defaults
from archiver.cli.terminal import echo
from archiver.errors import ConfigError
from archiver.jobs.batch_kind import provider_keys
from archiver.options import Option
from archiver.providers import registry
from archiver.serve.options import SERVE_OPTIONS
from archiver.serve.senders import gateway_of, gateway_providers
from archiver.store import open_db
from archiver.store.lock import require_directory


def _bare_models_help() -> str:
    help_texts = [
        g.bare_models_help for g in map(gateway_of, _gateway_names()) if g.takes_bare_models
    ]
    return help_texts[0] if help_texts else "Model names listed by /v1/models (repeat)."


def _gateway_names() -> list[str]:
    return [p.name for p in gateway_providers()]


def _credential_file_given(name: str, values: dict[str, Any]) -> bool:
    """Whether the command line named a credential file of this provider's (``--token-file``,
    ``--cookie-file`` ...): then it must be a good one, as for every other command."""
    sending = registry.get(name).sending
    keys = [key for key in (sending.options if sending else {}) if key.endswith("_file")]
    return any(values.get(key) is not None for key in keys)


# The gateway's own options, then every sending provider's keys (credential files, send
# options): the same declarations `archiver batch` takes.
SERVE_ALL: dict[str, Option] = {**SERVE_OPTIONS, **provider_keys()}


@click.command("serve")
@click.argument("db", type=click.Path(dir_okay=False))
@click.option(
    "--provider",
    "providers",
    multiple=True,
    type=click.Choice(_gateway_names()),
    help="Accounts to send through (repeat; default: those whose credentials are set).",
)
@click.option("--model", "models", multiple=True, help=_bare_models_help())
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Also answer requests for this host name (a reverse proxy's; repeat). Any other "
    "Host than the bound address is refused (DNS rebinding).",
)
@click_options(SERVE_ALL)
@click.option("-v", "--verbose", is_flag=True, help="Log each upstream request and retry.")
@handle_errors
def serve_command(
    db: str,
    providers: tuple[str, ...],
    models: tuple[str, ...],
    allowed_hosts: tuple[str, ...],
    verbose: bool,
    **values: Any,
) -> None:
    """Serve the archive in DB over HTTP: the read API, the older REST routes of seed 004
    (ChatGPT) and seed 000 (Bing, through Copilot where Bing is not configured),
    /v1/chat/completions and a viewer at /. Every answer is archived in DB.

    API routes need a key (archiver keys add DB NAME). Binds 127.0.0.1 unless --host says
    otherwise; anywhere else the viewer needs a key too. Stops on Ctrl-C or SIGTERM after the
    answers in flight are finished and archived.
    """
    from archiver.serve.app import serve
    from archiver.serve.common import ServeOptions

    setup_logging(verbose)
    require_directory(db)
    logging.getLogger("aiohttp.access").setLevel(logging.INFO)
    values = with_defaults(SERVE_ALL, values)
    settings = {}
    for name in providers or _gateway_names():
        try:
            settings[name] = registry.get(name).settings_from_env(values)
        except ConfigError:
            if providers or _credential_file_given(name, values):
                # Asked for by name, or given a credential file: it must work. Only a
                # provider with no credentials at all is left out quietly.
                raise
    if not settings:
        echo(
            "Warning: no account credentials found: only the read API and the viewer work.",
            err=True,
        )
    options = ServeOptions(
        host=values["host"],
        port=values["port"],
        max_rpm=values["max_rpm"],
        concurrency=values["concurrency"],
        max_queue=values["max_queue"],
        key_rpm=values["key_rpm"] or None,
        max_body=values["max_body"],
        body_timeout=float(values["body_timeout"]),
        cors_origin=values["cors_origin"],
        allowed_hosts=allowed_hosts,
        models=models or ("auto",),
        timeout_seconds=float(values["timeout"]),
        provider_values={key: values[key] for key in provider_keys()},
    )
    if not options.loopback:
        echo(
            f"Warning: binding {options.host}, not a loopback address: every route needs an API "
            "key, and traffic is plain HTTP (put TLS in front).",
            err=True,
        )
    serve(open_db(db), options, settings, print_line=lambda line: echo(line, err=True))


@click.group("keys")
def keys_command() -> None:
    """API keys of the gateway (archiver serve): only a hash of each is stored."""


@keys_command.command("add")
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("name")
@click.option("--admin", is_flag=True, help="May also DELETE /conversations/all.")
@handle_errors
def keys_add(db: str, name: str, admin: bool) -> None:
    """Create a key NAME and print it, once: it cannot be shown again."""
    from archiver.serve.keys import add_key

    require_directory(db)
    key = add_key(open_db(db), name, admin=admin)
    echo(key)
    echo(
        f"Key {name!r} created{' (admin)' if admin else ''}: store it now, it is not kept.",
        err=True,
    )


@keys_command.command("list")
@click.argument("db", type=click.Path(dir_okay=False, exists=True))
@handle_errors
def keys_list(db: str) -> None:
    """Every key: name, scope, created, last used, revoked (never the key)."""
    from archiver.serve.keys import list_keys

    for key in list_keys(open_db(db)):
        state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
        scope = "admin" if key.is_admin else "user"
        used = key.last_used_at or "never used"
        echo(f"{key.name}\t{scope}\t{state}\tcreated {key.created_at}\t{used}")


@keys_command.command("revoke")
@click.argument("db", type=click.Path(dir_okay=False, exists=True))
@click.argument("name")
@handle_errors
def keys_revoke(db: str, name: str) -> None:
    """Refuse key NAME from now on (a running gateway too)."""
    from archiver.serve.keys import revoke_key

    revoke_key(open_db(db), name)
    echo(f"Key {name!r} revoked.", err=True)
