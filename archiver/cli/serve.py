"""``archiver serve DB`` and ``archiver keys add|list|revoke DB``."""

from __future__ import annotations

import logging

import click

from archiver.cli.common import handle_errors, setup_logging
from archiver.errors import ConfigError
from archiver.store import open_db


@click.command("serve")
@click.argument("db", type=click.Path(dir_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--provider",
    "providers",
    multiple=True,
    type=click.Choice(["chatgpt", "bing"]),
    help="Accounts to send through (repeat; default: those whose credentials are set).",
)
@click.option(
    "--max-rpm",
    default=20.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Upstream requests per minute per account, every client together.",
)
@click.option(
    "--concurrency",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Answers in flight per account.",
)
@click.option(
    "--max-queue",
    default=16,
    show_default=True,
    type=click.IntRange(0, 10000),
    help="Answers waiting per account; beyond it clients get 429 (the gateway's limit).",
)
@click.option(
    "--key-rpm",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Requests per minute per API key (0: no limit).",
)
@click.option(
    "--max-body",
    default=1024 * 1024,
    show_default=True,
    type=click.IntRange(1024),
    help="Largest request body accepted, in bytes.",
)
@click.option("--cors-origin", help="Allow this one browser origin (no CORS otherwise).")
@click.option(
    "--model",
    "models",
    multiple=True,
    help="ChatGPT model slugs listed by /v1/models (repeat; default: auto).",
)
@click.option(
    "--conversation-path",
    default="f/conversation",
    show_default=True,
    help="ChatGPT: the path prompts are posted to ('conversation' is used when it is missing).",
)
@click.option("--timeout", default=300, show_default=True, help="Seconds to wait for an answer.")
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
@click.option("-v", "--verbose", is_flag=True, help="Log each upstream request and retry.")
@handle_errors
def serve_command(
    db: str,
    host: str,
    port: int,
    providers: tuple[str, ...],
    max_rpm: float,
    concurrency: int,
    max_queue: int,
    key_rpm: float,
    max_body: int,
    cors_origin: str | None,
    models: tuple[str, ...],
    conversation_path: str,
    timeout: int,
    token_file: str | None,
    cookie_file: str | None,
    verbose: bool,
) -> None:
    """Serve the archive in DB over HTTP: the read API, seed 004's ChatGPT routes, seed 000's
    Bing routes, /v1/chat/completions and a viewer at /. Every answer is archived in DB.

    API routes need a key (archiver keys add DB NAME). Binds 127.0.0.1 unless --host says
    otherwise; anywhere else the viewer needs a key too. Stops on Ctrl-C or SIGTERM after the
    answers in flight are finished and archived.
    """
    from archiver.serve.app import serve
    from archiver.serve.common import ServeOptions
    from archiver.serve.senders import PROVIDERS, load_settings

    setup_logging(verbose)
    logging.getLogger("aiohttp.access").setLevel(logging.INFO)
    secret_files = {"chatgpt": token_file, "bing": cookie_file}
    settings = {}
    for provider in providers or PROVIDERS:
        try:
            settings[provider] = load_settings(provider, secret_files.get(provider))
        except ConfigError:
            if providers:
                raise  # asked for by name: its credentials must be there
    if not settings:
        click.echo(
            "Warning: no account credentials found: only the read API and the viewer work.",
            err=True,
        )
    options = ServeOptions(
        host=host,
        port=port,
        max_rpm=max_rpm,
        concurrency=concurrency,
        max_queue=max_queue,
        key_rpm=key_rpm or None,
        max_body=max_body,
        cors_origin=cors_origin,
        models=models or ("auto",),
        timeout_seconds=float(timeout),
        conversation_path=conversation_path,
        default_provider="chatgpt"
        if "chatgpt" in settings or not settings
        else next(iter(settings)),
    )
    if not options.loopback:
        click.echo(
            f"Warning: binding {host}, not a loopback address: every route needs an API key, "
            "and traffic is plain HTTP (put TLS in front).",
            err=True,
        )
    serve(open_db(db), options, settings, print_line=lambda line: click.echo(line, err=True))


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

    key = add_key(open_db(db), name, admin=admin)
    click.echo(key)
    click.echo(
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
        click.echo(f"{key.name}\t{scope}\t{state}\tcreated {key.created_at}\t{used}")


@keys_command.command("revoke")
@click.argument("db", type=click.Path(dir_okay=False, exists=True))
@click.argument("name")
@handle_errors
def keys_revoke(db: str, name: str) -> None:
    """Refuse key NAME from now on (a running gateway too)."""
    from archiver.serve.keys import revoke_key

    revoke_key(open_db(db), name)
    click.echo(f"Key {name!r} revoked.", err=True)
