"""click options generated from an option declaration (``archiver.options``): the command
line and the job files share one list of names, defaults and help texts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

from archiver.options import Option, boolean, click_type

F = TypeVar("F", bound=Callable[..., Any])


def flag_name(key: str) -> str:
    return "--" + key.replace("_", "-")


def click_options(options: Mapping[str, Option]) -> Callable[[F], F]:
    """One click option per declared key with ``cli=True``: ``max_rpm`` is ``--max-rpm`` (or
    the option's own ``flag``); a boolean is a flag (``no_archived`` is ``--no-archived``)."""

    def decorate(command: F) -> F:
        for key, option in reversed(list(options.items())):
            if not option.cli:
                continue
            flag = option.flag or flag_name(key)
            help_text = option.flag_help or option.help
            if option.check is boolean:
                if option.default:  # a flag can only switch something on
                    raise TypeError(f"{key}: boolean options default to false")
                command = click.option(flag, key, is_flag=True, help=help_text)(command)
                continue
            command = click.option(
                flag,
                key,
                type=click_type(option.check),
                default=option.default,
                show_default=option.default is not None,
                help=help_text,
            )(command)
        return command

    return decorate


def with_defaults(options: Mapping[str, Option], values: Mapping[str, Any]) -> dict[str, Any]:
    """The values a command got, plus the declared default of every key it did not show."""
    return {key: values.get(key, option.default) for key, option in options.items()}
