"""The emulator's mutable state: the request log and counters, and each provider's world.

A provider's world (its chats, sessions, counters) is its own, made on first use by
``provider_state(name, make)``; a world that subclasses ``archiver/fakes/world.py:
UpstreamWorld`` also answers the fault middleware's and the control routes' questions. All
request handling happens on the server's one event-loop thread; the lock only guards what tests
read from another thread (the log and counters).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from archiver.fakes import data
from archiver.fakes.config import EmulatorConfig
from archiver.fakes.world import UpstreamWorld
from archiver.loosejson import Json

T = TypeVar("T")
W = TypeVar("W")
C = TypeVar("C")


@dataclass
class Counters:
    by_route: Counter[tuple[str, int]] = field(default_factory=Counter)
    rate_limited: int = 0
    prompts: int = 0


class EmulatorState:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.request_log: list[Json] = []
        self.counters = Counters()
        self.created = 0  # things clients created (new_id)
        self.drops_left = config.drop_sends  # see scripted_drop
        # Each provider's world: name -> whatever its fake keeps (``provider_state``).
        self._provider_states: dict[str, Any] = {}

    def provider_state(self, name: str, make: Callable[[Any], T]) -> T:
        """Provider ``name``'s own state, made by ``make(its config)`` on first use."""
        if name not in self._provider_states:
            self._provider_states[name] = make(self.config.provider(name))
        state: T = self._provider_states[name]
        return state

    def worlds(self) -> list[UpstreamWorld]:
        """The provider worlds made so far that answer the framework's questions."""
        return [s for s in self._provider_states.values() if isinstance(s, UpstreamWorld)]

    def scripted_drop(self) -> bool:
        """Whether the answer stream starting now is one of the next ``drop_sends`` cut
        part-way (any provider's: an SSE stream or a chat socket)."""
        if self.drops_left > 0:
            self.drops_left -= 1
            return True
        return False

    def new_id(self, kind: str) -> str:
        """A fresh id for something a client created; its own namespace, so it can never
        collide with the generated data's ids (which are numbered from 0 too)."""
        self.created += 1
        return data.stable_uuid(self.config.seed, "created", kind, self.created)

    # -- bookkeeping ------------------------------------------------------------------------

    def log(self, method: str, path: str, route: str, status: int, **extra: Any) -> None:
        entry = {"method": method, "path": path, "route": route, "status": status}
        entry.update(time=time.time(), **extra)
        with self.lock:
            self.request_log.append(entry)
            self.counters.by_route[(route, status)] += 1
            if status == 429:
                self.counters.rate_limited += 1

    def count_prompt(self) -> None:
        with self.lock:
            self.counters.prompts += 1

    def stats(self) -> Json:
        with self.lock:
            routes: dict[str, dict[str, int]] = {}
            for (route, status), n in sorted(self.counters.by_route.items()):
                routes.setdefault(route, {})[str(status)] = n
            stats: Json = {
                "requests": routes,
                "total_requests": len(self.request_log),
                "rate_limited": self.counters.rate_limited,
                "prompts": self.counters.prompts,
            }
            for world in self.worlds():
                stats.update(world.stats())
            return stats


STATE = web.AppKey("state", EmulatorState)


def seeded_world(
    where: EmulatorState | web.Request,
    name: str,
    world: Callable[[C, int, threading.Lock], W],
    default_config: Callable[[], C],
) -> W:
    """Provider ``name``'s world in the emulator's state (or a request's), made on first use as
    ``world(its config or default_config(), the seed, the emulator's lock)``."""
    state = where.app[STATE] if isinstance(where, web.Request) else where
    seed, lock = state.config.seed, state.lock
    return state.provider_state(name, lambda config: world(config or default_config(), seed, lock))
