"""Run ``archiver serve``'s app on a real 127.0.0.1 port, on a thread of its own, in front of
the bundled emulator: the official ``openai`` client (synchronous, httpx) and plain HTTP
clients then talk to it the way real clients do.

The gateway's thread opens its own connection to the archive (an sqlite3 connection belongs to
the thread that opened it); tests read the same file through another connection (WAL).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from archiver.config import Secret
from archiver.emulator import RunningEmulator
from archiver.emulator.server import loop_in_thread
from archiver.providers.bing.client import BingSettings
from archiver.providers.bing.fake.config import BingFakeConfig
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.providers.chatgpt.fake.config import ChatGPTFakeConfig
from archiver.providers.copilot.client import CopilotSettings
from archiver.providers.copilot.fake.config import CopilotFakeConfig
from archiver.serve.app import HANDLER_ARGS, AccessLog, make_app
from archiver.serve.common import CONTEXT, ServeContext, ServeOptions
from archiver.store import open_db
from tests.support.transport import FAST

T = TypeVar("T")


def emulator_settings(emu: RunningEmulator, providers: tuple[str, ...]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if "chatgpt" in providers:
        settings["chatgpt"] = ChatGPTSettings(
            base_url=emu.chatgpt_base_url, token=Secret(ChatGPTFakeConfig().token)
        )
    if "bing" in providers:
        settings["bing"] = BingSettings(
            cookie=Secret(BingFakeConfig().cookie),
            bing_base_url=emu.base_url,
            sydney_base_url=emu.base_url,
        )
    if "copilot" in providers:
        settings["copilot"] = CopilotSettings(
            Secret(CopilotFakeConfig().token), base_url=emu.base_url
        )
    return settings


@dataclass
class RunningGateway:
    base_url: str
    loop: asyncio.AbstractEventLoop
    app: web.Application
    runner: web.AppRunner
    stopped: bool = field(default=False)

    @property
    def ctx(self) -> ServeContext:
        return self.app[CONTEXT]

    def gateway(self, provider: str = "chatgpt") -> Any:
        return self.ctx.gateways[provider]

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run ``coro`` on the gateway's loop (to look at its state without racing it)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self, timeout: float = 60) -> None:
        """What SIGTERM does: stop listening, finish the answers in flight, close the accounts."""
        if not self.stopped:
            self.stopped = True
            self.call(self.runner.cleanup(), timeout)


@contextmanager
def running_gateway(
    db_path: Path,
    emu: RunningEmulator | None,
    *,
    providers: tuple[str, ...] = ("chatgpt", "bing"),
    settings: dict[str, Any] | None = None,
    access_log: logging.Logger | None = None,
    shutdown_timeout: float = 5.0,
    **overrides: Any,
) -> Iterator[RunningGateway]:
    """The gateway on a free port of 127.0.0.1. ``overrides`` are ServeOptions fields; ``host``
    there sets the gateway's policy (loopback or not) while the socket stays on 127.0.0.1.
    ``access_log``: where the access log goes (none by default), in ``archiver serve``'s
    format."""
    values: dict[str, Any] = {"max_rpm": None, "key_rpm": None, "policy": FAST}
    values.update(overrides)
    options = ServeOptions(**values)
    if settings is None:
        settings = emulator_settings(emu, providers) if emu is not None else {}

    async def start() -> RunningGateway:
        app = make_app(open_db(db_path), options, settings)
        runner = web.AppRunner(
            app,
            access_log=access_log,
            access_log_class=AccessLog,
            shutdown_timeout=shutdown_timeout,
            **HANDLER_ARGS,
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        return RunningGateway(f"http://127.0.0.1:{port}", asyncio.get_running_loop(), app, runner)

    with loop_in_thread(start, "archiver-gateway") as (_loop, running):
        try:
            yield running
        finally:
            running.stop()


@dataclass
class Reply:
    status: int
    headers: Any  # email.message.Message: case-insensitive .get()
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    method: str,
    url: str,
    *,
    key: str | None = None,
    json_body: Any = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Reply:
    """One plain HTTP request (urllib: no client library between the test and the wire).
    Redirects are not followed, so a 303 to /login is seen as it is."""
    sent = dict(headers or {})
    if key is not None:
        sent.setdefault("Authorization", f"Bearer {key}")
    if json_body is not None:
        data = json.dumps(json_body).encode()
        sent.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.headers, error.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HeldUpstream:
    """Holds every send of one account's gateway until ``release``: the test decides when an
    answer may come, so queue and disconnect tests need no sleeps and no timing."""

    def __init__(self, running: RunningGateway, provider: str = "chatgpt"):
        self.running = running
        self.gateway = running.gateway(provider)
        self.sender = self.gateway.sender
        self.original = self.sender.send
        self.event = asyncio.Event()
        self.waiting = 0

        async def held(*args: Any, **kwargs: Any) -> Any:
            self.waiting += 1
            await self.event.wait()
            return await self.original(*args, **kwargs)

        self.sender.send = held

    def release(self) -> None:
        self.running.loop.call_soon_threadsafe(self.event.set)

    def wait_for(self, what: Callable[[], bool], timeout: float = 20) -> None:
        """Poll the gateway's state (plain attribute reads) until ``what`` holds."""
        deadline = time.monotonic() + timeout
        while not what():
            if time.monotonic() > deadline:
                raise AssertionError("the gateway never reached the state waited for")
            time.sleep(0.01)
