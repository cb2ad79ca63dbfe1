"""Ctrl-C and SIGTERM during synchronous work that runs inside the event loop.

``asyncio.run`` answers the first Ctrl-C by cancelling its main task, which only happens when
that task next awaits: a long synchronous stretch (an import, a reflatten) would ignore Ctrl-C
until its very end, then be recorded ``ok``. Inside ``interrupt_raises`` Ctrl-C raises
KeyboardInterrupt at once, as in a plain Python program; every conversation is committed in its
own transaction, so what was committed stays."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def interrupt_raises() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
