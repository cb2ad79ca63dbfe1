"""``archiver emulator``: run the emulator in the foreground (demos, benchmarks, manual tests)."""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import sys
from dataclasses import Field, fields, replace
from types import NoneType, UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import click

from archiver.emulator.app import upstreams, with_provider_defaults
from archiver.emulator.server import start_site
from archiver.errors import EXIT_CONFIG
from archiver.fakes.config import EmulatorConfig
from archiver.fakes.knobs import Flag, flag_of
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


def config_from(
    options: dict[str, object], *, retry_after: bool = True, settings: tuple[str, ...] = ()
) -> EmulatorConfig:
    """The config the command's options ask for: the shared knobs, each provider's knob flags
    (``knob_options``), then its ``--set`` settings."""
    shared = {dest: value for dest, value in options.items() if KNOB_SEPARATOR not in dest}
    config = with_provider_defaults(EmulatorConfig(retry_after=retry_after, **shared))  # type: ignore[arg-type]
    for dest, value in options.items():
        name, separator, key = dest.partition(KNOB_SEPARATOR)
        if separator:
            config.provider_configs[name] = replace(config.provider(name), **{key: value})
    for setting in settings:
        target, _, value = setting.partition("=")
        name, _, key = target.partition(".")
        try:
            if name not in registry.names() or not key or not _:
                raise ValueError(f"--set {setting!r}: expected PROVIDER.KEY=VALUE")
            config.set_provider_value(name, key, value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--set") from None
    return config


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


# A provider's knob flag's parameter name: ``chatgpt__conversations`` is ChatGPT's conversations.
KNOB_SEPARATOR = "__"


def knob_options() -> list[click.Option]:
    """Every provider's knobs declared with ``archiver/fakes/knobs.py:flag``, as options."""
    options = []
    for name, upstream in upstreams().items():
        config = upstream.default_config()
        if config is None:
            continue
        prefix = getattr(type(config), "flag_prefix", f"{name}-")
        hints = get_type_hints(type(config))
        for knob in fields(config):
            declared = flag_of(knob)
            if declared is not None:
                flag = f"--{prefix}{knob.name.replace('_', '-')}"
                dest = f"{name}{KNOB_SEPARATOR}{knob.name}"
                options.append(_option(flag, dest, hints[knob.name], knob, declared))
    return options


def _option(flag: str, dest: str, hint: Any, knob: Field[Any], declared: Flag) -> click.Option:
    if hint is bool and not knob.default:
        return click.Option([flag, dest], is_flag=True, help=declared.help)
    if hint is bool:
        return click.Option([f"{flag}/--no-{flag[2:]}", dest], default=True, help=declared.help)
    return click.Option(
        [flag, dest],
        type=declared.type or _click_type(hint),
        default=knob.default,
        show_default=knob.default is not None,
        help=declared.help,
    )


def _click_type(hint: Any) -> Any:
    """A count for a whole number, a finite number for a float, a choice for a Literal, else
    text; ``X | None`` is X."""
    if get_origin(hint) in (Union, UnionType):
        (hint,) = [arg for arg in get_args(hint) if arg is not NoneType]
    if get_origin(hint) is Literal:
        return click.Choice(get_args(hint))
    return {int: COUNT, float: FiniteFloatRange()}.get(hint, click.STRING)


emulator_command.params.extend(knob_options())
