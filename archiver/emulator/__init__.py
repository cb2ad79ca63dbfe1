"""A local stand-in for the ChatGPT backend-api and Bing/Sydney, for tests and benchmarks.

Usage::

    with running_emulator(EmulatorConfig(conversations=50)) as emu:
        ...  # point clients at emu.chatgpt_base_url and emu.base_url
"""

from archiver.emulator.chatgpt_data import (
    conversation,
    export_conversation,
    export_conversations,
    summary,
    write_export_json,
)
from archiver.emulator.config import EmulatorConfig
from archiver.emulator.server import RunningEmulator, running_emulator

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
