"""``archiver emulator``: run the emulator in the foreground (demos, benchmarks, manual tests)."""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import sys

import click

from archiver.emulator.options import COUNT, config_from, knob_options
from archiver.emulator.server import start_site
from archiver.errors import EXIT_CONFIG
from archiver.fakes.config import EmulatorConfig
from archiver.fakes.state import EmulatorState
from archiver.options import FiniteFloatRange

PROBABILITY = FiniteFloatRange(0.0, 1.0)  # a share of requests


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
    config = config_from(options, retry_after=not no_retry_after, settings=settings)
    try:
        asyncio.run(_serve(config))
    except OSError as exc:  # port taken, address not on this machine
        click.echo(
            f"Error: cannot serve on {host}:{options['port']}: {exc.strerror or exc}", err=True
        )
        sys.exit(EXIT_CONFIG)


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


emulator_command.params.extend(knob_options())
