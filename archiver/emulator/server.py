"""Run the bundled emulator on a background thread for tests and benchmarks."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from aiohttp import web

from archiver.emulator.app import make_app, with_provider_defaults
from archiver.fakes.config import EmulatorConfig
from archiver.fakes.state import EmulatorState

T = TypeVar("T")


@dataclass
class RunningEmulator:
    base_url: str  # http://127.0.0.1:PORT — also the Bing and Sydney base
    state: EmulatorState

    @property
    def chatgpt_base_url(self) -> str:
        return self.base_url + "/backend-api"

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def request_log(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.request_log)


async def start_site(config: EmulatorConfig, state: EmulatorState) -> tuple[web.AppRunner, int]:
    # A short shutdown timeout: open websockets and streams must not hold up test teardown.
    runner = web.AppRunner(make_app(config, state), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    port = runner.addresses[0][1]  # the port the OS picked when config.port is 0
    return runner, port


@contextmanager
def loop_in_thread(
    start: Callable[[], Awaitable[T]], name: str
) -> Iterator[tuple[asyncio.AbstractEventLoop, T]]:
    """An event loop running in a daemon thread until the ``with`` block ends: ``start`` runs
    on it first, and its result is yielded with the loop (an error in it is raised here, in
    the caller's thread). What ``start`` set up is the caller's to clean up inside the block.
    Serves the emulator here and the gateway in tests."""
    loop = asyncio.new_event_loop()
    started: list[T] = []
    failed: list[BaseException] = []
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            started.append(loop.run_until_complete(start()))
        except BaseException as exc:  # report startup errors to the caller's thread
            failed.append(exc)
            ready.set()
            return
        ready.set()
        loop.run_forever()

    # The thread runs in a copy of the caller's context: a test's clock (archiver.clock) is the
    # emulator's too, so its rate limits and caps clear in the test's virtual time.
    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(run,), name=name, daemon=True)
    thread.start()
    ready.wait()
    if failed:
        loop.close()
        raise failed[0]
    try:
        yield loop, started[0]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@contextmanager
def running_emulator(
    config: EmulatorConfig | None = None, **overrides: Any
) -> Iterator[RunningEmulator]:
    """Serve the emulator on a free port of 127.0.0.1 until the ``with`` block ends.

    ``overrides`` are EmulatorConfig fields, for brevity: ``running_emulator(rate_limit=60)``.
    """
    config = with_provider_defaults(replace(config or EmulatorConfig(), **overrides))
    state = EmulatorState(config)
    with loop_in_thread(lambda: start_site(config, state), "archiver-emulator") as started:
        loop, (runner, port) = started
        try:
            yield RunningEmulator(f"http://{config.host}:{port}", state)
        finally:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
