"""The bundled emulator: every provider's fake upstream on 127.0.0.1, for make demo, tests and
benchmarks (the framework lives in archiver/fakes/, each fake in its provider's package).

Usage::

    with running_emulator(EmulatorConfig(latency_ms=20)) as emu:
        ...  # point clients at emu.base_url (each provider's Emulator.environment says how)
"""

from archiver.emulator.server import RunningEmulator, running_emulator
from archiver.fakes.config import EmulatorConfig

__all__ = ["EmulatorConfig", "RunningEmulator", "running_emulator"]
