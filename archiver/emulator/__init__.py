"""The bundled emulator: every provider's fake upstream on 127.0.0.1, for make demo, tests and
benchmarks (the fakes themselves live in archiver/fakes/ and in the providers' packages).

Usage::

    with running_emulator(EmulatorConfig(conversations=50)) as emu:
        ...  # point clients at emu.chatgpt_base_url and emu.base_url
"""

from archiver.emulator.server import RunningEmulator, running_emulator
from archiver.fakes.config import EmulatorConfig
from archiver.providers.chatgpt.fake.generate import (
    conversation,
    export_conversation,
    export_conversations,
    summary,
    write_export_json,
)

__all__ = [
    "EmulatorConfig",
    "RunningEmulator",
    "conversation",
    "export_conversation",
    "export_conversations",
    "running_emulator",
    "summary",
    "write_export_json",
]
