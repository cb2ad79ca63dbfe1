"""A provider's emulator knob that is also a flag of ``archiver emulator``: declared once, on
the field of its fake's config dataclass (``archiver/emulator/options.py`` generates the flags).

The flag is ``--<provider>-<knob>`` (knob ``page_size`` of provider ``x`` is ``--x-page-size``),
or ``--<flag_prefix><knob>`` when the config class sets ``flag_prefix`` (flags older than this
rule keep their names). Its type follows the field's: a bool is an on/off flag, a ``Literal`` a
choice, an int a count (0 or more), a float a finite number; ``type`` (a click parameter type)
says otherwise. Every knob, a flag or not, is also ``--set <provider>.<knob>=<value>``."""

from __future__ import annotations

from dataclasses import Field, dataclass, field
from typing import Any

_FLAG = "archiver.emulator.flag"


@dataclass(frozen=True)
class Flag:
    help: str = ""
    type: Any = None  # a click ParamType; None: from the field's type


def flag(default: Any, help: str = "", *, type: Any = None) -> Any:
    """A dataclass field with ``default`` that ``archiver emulator`` also offers as a flag."""
    return field(default=default, metadata={_FLAG: Flag(help, type)})


def flag_of(knob: Field[Any]) -> Flag | None:
    """The flag declared on a config field, if it has one."""
    declared = knob.metadata.get(_FLAG)
    return declared if isinstance(declared, Flag) else None
