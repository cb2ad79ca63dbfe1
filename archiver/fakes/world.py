"""What the shared framework asks of each provider's fake upstream, and the pieces of a world
of generated chats that several fakes share.

A provider's world (its mutable state, kept with ``EmulatorState.provider_state``) subclasses
``UpstreamWorld`` to tell the fault middleware, the control routes and the counters about its
own upstream: which credential a request carries, which page the CDN in front of it answers,
which requests it refuses, what ``/_emulator/delete/{id}`` deletes, what it counts. Each
answer defaults to "not mine". Make the world in ``add_routes`` so that it answers from the
first request on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar

from aiohttp import web

from archiver.loosejson import Json


class UpstreamWorld:
    def credential(self, request: web.Request) -> str | None:
        """What the rate limiter counts ``request`` by when it carries no Authorization header
        (a cookie of this upstream's, say); None when it carries none of this upstream's."""
        return None

    def screen(self, request: web.Request) -> web.StreamResponse | None:
        """The answer of the CDN in front of this upstream (a challenge page) instead of the
        route's, before the rate limiter; None to let the request through."""
        return None

    def admit(self, request: web.Request) -> web.StreamResponse | None:
        """This upstream's refusal of the request's credential, after the rate limiter and
        before injected server errors; None to let it through (or when not its request)."""
        return None

    def delete(self, item_id: str) -> bool:
        """``/_emulator/delete/{id}``: delete ``item_id`` upstream if it is one of this world's
        (gone from lists, 404 when fetched); whether it was."""
        return False

    def stats(self) -> dict[str, int]:
        """This upstream's own counters, for ``/_emulator/stats``."""
        return {}


class Deletable(Protocol):
    deleted: bool


def mark_deleted(chats: Mapping[str, Deletable], item_id: str) -> bool:
    """Mark chat ``item_id`` deleted upstream if ``chats`` holds it; whether it does."""
    chat = chats.get(item_id)
    if chat is not None:
        chat.deleted = True
    return chat is not None


class GeneratedChat(Protocol):
    """A chat of a flat-history fake: a generated one builds its messages on first use."""

    index: int | None  # None for chats created through the API
    messages: list[Json] | None
    deleted: bool


C = TypeVar("C", bound=GeneratedChat)


def live(chats: dict[str, C], cid: str) -> C | None:
    """The chat upstream would still serve (not deleted)."""
    chat = chats.get(cid)
    return None if chat is None or chat.deleted else chat


def history(chat: GeneratedChat, generate: Callable[..., list[Json]], seed: int) -> list[Json]:
    """The chat's messages, generated on first use (``generate(index, seed=seed)``)."""
    if chat.messages is None:
        assert chat.index is not None  # created chats start with a list of their own
        chat.messages = generate(chat.index, seed=seed)
    return chat.messages
