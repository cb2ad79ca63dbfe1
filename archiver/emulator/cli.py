"""``archiver emulator``: run the emulator in the foreground (demos, benchmarks, manual tests)."""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import sys

import click

from archiver.emulator.app import with_provider_defaults
from archiver.emulator.server import start_site
from archiver.errors import EXIT_CONFIG
from archiver.fakes.config import EmulatorConfig
from archiver.fakes.state import EmulatorState
from archiver.options import FiniteFloatRange
from archiver.providers import registry

PROBABILITY = FiniteFloatRange(0.0, 1.0)  # a share of requests
COUNT = click.IntRange(min=0)


@click.command("emulator")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Loopback only, unless --allow-remote."
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a --host other than loopback (the emulator accepts fixed, published secrets).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="0 picks a free port.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--conversations", type=COUNT, default=200, show_default=True)
@click.option("--mean-nodes", type=COUNT, default=12, show_default=True)
@click.option("--bing-chats", type=COUNT, default=20, show_default=True)
@click.option("--token", default="emulator-token", show_default=True, help="Accepted bearer token.")
@click.option("--account-id", default=None, help="Require this Chatgpt-Account-Id.")
@click.option(
    "--bing-cookie", default="emulator-cookie", show_default=True, help="Accepted _U cookie."
)
@click.option(
    "--bing-signature-style",
    type=click.Choice(["body", "header"]),
    default="header",
    show_default=True,
)
@click.option("--bing-times-in-seconds", is_flag=True, help="Some chats list epoch seconds.")
@click.option("--bing-conversation-cap", type=COUNT, default=30, show_default=True)
@click.option("--bing-daily-cap", type=COUNT, default=300, show_default=True)
@click.option(
    "--bing-captcha", is_flag=True, help="Answer every ChatHub prompt with CaptchaChallenge."
)
@click.option("--copilot-chats", type=COUNT, default=0, show_default=True)
@click.option(
    "--copilot-token",
    default="emulator-copilot-token",
    show_default=True,
    help="Accepted Copilot token.",
)
@click.option("--copilot-identity-type", default=None, help="Require this x-useridentitytype.")
@click.option(
    "--copilot-challenge",
    type=click.Choice(["none", "empty", "hashcash", "cloudflare"]),
    default="none",
    show_default=True,
    help="The challenge each Copilot chat socket asks once.",
)
@click.option("--copilot-hashcash-bits", type=COUNT, default=12, show_default=True)
@click.option("--copilot-error", default=None, help="Answer every Copilot prompt with this error.")
@click.option("--latency-ms", type=COUNT, default=0, show_default=True)
@click.option("--fail-rate", type=PROBABILITY, default=0.0, show_default=True)
@click.option(
    "--rate-limit", type=COUNT, default=0, show_default=True, help="Requests/minute/credential."
)
@click.option(
    "--rate-burst",
    type=click.IntRange(min=1),
    default=None,
    help="Bucket size [default: max(1, N//60)].",
)
@click.option("--no-retry-after", is_flag=True, help="Omit Retry-After on 429.")
@click.option("--challenge-rate", type=PROBABILITY, default=0.0, show_default=True)
@click.option("--drop-rate", type=PROBABILITY, default=0.0, show_default=True)
@click.option("--stream-delay-ms", type=COUNT, default=0, show_default=True)
@click.option(
    "--session-cookie", default="emulator-session", show_default=True, help="Accepted session."
)
@click.option(
    "--token-lifetime-s",
    type=FiniteFloatRange(min=0, min_open=True),
    default=10 * 86400,
    show_default=True,
)
@click.option("--challenge-script-agents", is_flag=True, help="Cloudflare page for scripts.")
@click.option("--projects", type=COUNT, default=0, show_default=True)
@click.option("--project-conversations", type=COUNT, default=3, show_default=True)
@click.option("--cursor-form", type=click.Choice(["string", "number"]), default="string")
@click.option("--gone-file-rate", type=PROBABILITY, default=0.0, show_default=True)
@click.option(
    "--pow-difficulty",
    default="0fffff",
    show_default=True,
    callback=lambda _c, _p, v: _hex(v),
    help="The proof of work the sentinel asks for (hex); '' for none.",
)
@click.option("--pow-forms", type=click.Choice(["both", "sha3", "fnv"]), default="both")
@click.option(
    "--sentinel-form",
    type=click.Choice(["plain", "prepare"]),
    default="plain",
    help="prepare: only chat-requirements/prepare + finalize exist.",
)
@click.option("--turnstile", type=click.Choice(["off", "required", "insist"]), default="off")
@click.option("--unusual-activity", type=COUNT, default=0, help="Answer the next N sends with 403.")
@click.option(
    "--send-paths",
    type=click.Choice(["both", "f", "legacy"]),
    default="both",
    help="f: only f/conversation; legacy: only conversation.",
)
@click.option("--model-cap", type=COUNT, default=0, help="Answers per model before the cap.")
@click.option("--model-cap-clears-in", type=FiniteFloatRange(min=1.0), default=3600.0)
@click.option("--one-at-a-time", is_flag=True, help="Refuse a second answer in flight.")
@click.option("--drop-sends", type=COUNT, default=0, help="Cut the next N answer streams.")
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="PROVIDER.KEY=VALUE",
    help="One knob of a provider's own emulator (repeat), e.g. --set claude.chats=5.",
)
def emulator_command(
    no_retry_after: bool, allow_remote: bool, settings: tuple[str, ...], **options: object
) -> None:
    """Serve fake upstreams of every provider with an emulator on 127.0.0.1 until interrupted."""
    host = str(options["host"])
    if not _is_loopback(host):
        if not allow_remote:
            raise click.UsageError(
                f"--host {host} is not a loopback address; add --allow-remote to serve other "
                "machines (anyone reaching it can use the emulator's published token)"
            )
        click.echo(f"Warning: the emulator is reachable from other machines on {host}", err=True)
    config = EmulatorConfig(retry_after=not no_retry_after, **options)  # type: ignore[arg-type]
    with_provider_defaults(config)
    for setting in settings:
        target, _, value = setting.partition("=")
        name, _, key = target.partition(".")
        try:
            if name not in registry.names() or not key or not _:
                raise ValueError(f"--set {setting!r}: expected PROVIDER.KEY=VALUE")
            config.set_provider_value(name, key, value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--set") from None
    try:
        asyncio.run(_serve(config))
    except OSError as exc:  # port taken, address not on this machine
        click.echo(
            f"Error: cannot serve on {host}:{options['port']}: {exc.strerror or exc}", err=True
        )
        sys.exit(EXIT_CONFIG)


def _hex(value: str) -> str:
    if any(c not in "0123456789abcdefABCDEF" for c in value):
        raise click.BadParameter(f"{value!r} is not hex")
    return value.lower()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _serve(config: EmulatorConfig) -> None:
    runner, port = await start_site(config, EmulatorState(config))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Scripts read this one line to learn the port.
    print(f"emulator ready http://{config.host}:{port}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
