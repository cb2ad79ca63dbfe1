"""``archiver emulator``'s provider options: each provider's knobs declared with
``archiver/fakes/knobs.py:flag`` become flags, typed from their fields, and ``--set
PROVIDER.KEY=VALUE`` sets any knob; ``config_from`` makes the emulator's config of them."""

from __future__ import annotations

from dataclasses import Field, fields, replace
from types import NoneType, UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import click

from archiver.emulator.app import upstreams, with_provider_defaults
from archiver.fakes.config import EmulatorConfig
from archiver.fakes.knobs import Flag, flag_of
from archiver.options import FiniteFloatRange
from archiver.providers import registry

COUNT = click.IntRange(min=0)  # a whole-number knob


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
