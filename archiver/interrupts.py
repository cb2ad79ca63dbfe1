"""Ctrl-C and SIGTERM: both stop a run cleanly (recorded ``interrupted``, exit 130).

``asyncio.run`` answers the first Ctrl-C by cancelling its main task, which only happens when
that task next awaits: a long synchronous stretch (an import, a reflatten) would ignore Ctrl-C
until its very end, then be recorded ``ok``. Inside ``interrupt_raises`` Ctrl-C raises
KeyboardInterrupt at once, as in a plain Python program; every conversation is committed in its
own transaction, so what was committed stays.

SIGTERM (systemd's stop, ``timeout``, ``kill``) is handled on its own, never by re-raising it as
SIGINT: a background job of a shell script inherits SIGINT *ignored*, and a SIGTERM passed on
to an ignored SIGINT would be lost (the run would go on to its end and exit 0). ``run_async``
runs a coroutine as ``asyncio.run`` does, and SIGTERM cancels it there as Ctrl-C would, then
ends in KeyboardInterrupt; anywhere else (synchronous work) SIGTERM raises KeyboardInterrupt."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

# What SIGTERM does while run_async runs a coroutine (cancel it); None: raise at once.
_cancel_run: Callable[[], None] | None = None


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    if _cancel_run is not None:
        _cancel_run()
        return
    raise KeyboardInterrupt


def handle_sigterm() -> None:
    """Make SIGTERM stop the process as cleanly as Ctrl-C (main thread only: signal handlers
    can only be set there)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``; a SIGTERM meanwhile cancels ``coro`` (so that the run recorder
    marks the run ``interrupted``) and then raises KeyboardInterrupt, as Ctrl-C does."""
    global _cancel_run
    terminated = False

    async def main() -> T:
        global _cancel_run
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        assert task is not None

        def cancel() -> None:  # in a signal handler: as asyncio's own Ctrl-C handler does
            nonlocal terminated
            terminated = True
            if not task.done():
                task.cancel()
                loop.call_soon_threadsafe(lambda: None)  # wake the loop up

        _cancel_run = cancel
        return await coro

    previous = _cancel_run
    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        if terminated:
            raise KeyboardInterrupt from None
        raise
    finally:
        _cancel_run = previous


@contextmanager
def interrupt_raises() -> Iterator[None]:
    """Synchronous work inside a coroutine: Ctrl-C and SIGTERM raise KeyboardInterrupt at once
    instead of cancelling the coroutine at its next ``await`` (long after). An ignored SIGINT
    stays ignored."""
    global _cancel_run
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    cancel, _cancel_run = _cancel_run, None
    try:
        yield
    finally:
        _cancel_run = cancel
        if previous is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, previous)
