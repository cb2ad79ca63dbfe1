"""Flattened conversations for an import, made in this process or in a worker process.

Parsing the export and flattening each conversation is pure work; saving is SQLite's. On a
large export the two run side by side: a worker process (``spawn``: a fresh interpreter, no
inherited SQLite handles) parses and flattens, and sends each conversation's rows as compact
tuples over a bounded queue to the importing process, which stays the one writer and saves them
in order, each in its own transaction. Memory stays flat: what is in flight is bounded by the
pipe (1 MiB) plus one conversation on each side. Errors keep their meaning: a conversation that cannot be flattened comes back as a
failure naming its file and index; a file that cannot be read further comes back as an error
item; a worker that dies is reported as an error and what was saved stays saved."""

from __future__ import annotations

import multiprocessing
import operator
import os
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

import contextlib

from archiver.flatten.records import MESSAGE_COLUMNS
from archiver.importer.reader import Export, ExportItem, iter_conversations, open_export
from archiver.progress import Progress
from archiver.providers.chatgpt.flatten import flatten_conversation

# Below this much JSON, starting a second interpreter costs more than it saves.
PIPELINE_MIN_BYTES = 8 * 1024 * 1024
PIPE_BYTES = 1024 * 1024

_message_values = operator.itemgetter(*MESSAGE_COLUMNS)


@dataclass
class FlatItem:
    """One entry of a conversation file, flattened (or why not)."""

    source: str
    index: int
    where: str = ""  # how errors name it: "conversations.json #12 (id ...)"
    conversation: dict[str, Any] | None = None
    message_values: list[tuple[Any, ...]] = field(default_factory=list)  # MESSAGE_COLUMNS order
    attachments: list[dict[str, Any]] = field(default_factory=list)
    failure: str | None = None  # this conversation could not be flattened
    error: str | None = None  # the file could not be read further (not a conversation)


def flatten_item(item: ExportItem) -> FlatItem:
    if item.error is not None:
        return FlatItem(item.source, item.index, error=item.error)
    conv = item.conversation
    where = f"{item.source} #{item.index}"
    if isinstance(conv, dict) and isinstance(conv.get("id"), str):
        where += f" (id {conv['id']})"
    try:
        flat = flatten_conversation(conv, source="export")
    except Exception as exc:  # a malformed entry must not stop the rest of the export
        return FlatItem(
            item.source, item.index, where, failure=f"not a usable conversation ({exc})"
        )
    values = [_message_values(row) for row in flat.messages]
    return FlatItem(item.source, item.index, where, flat.conversation, values, flat.attachments)


def flat_items(export: Export, progress: Progress) -> Iterator[FlatItem]:
    """Every entry of the export, parsed and flattened in this process."""
    for item in iter_conversations(export, progress):
        yield flatten_item(item)


def use_worker(export: Export, jobs: int | None) -> bool:
    """``jobs`` 1: one process; 2: a worker process; None: a worker for large exports when
    there is a second core."""
    if jobs is not None:
        return jobs >= 2
    return export.total_bytes >= PIPELINE_MIN_BYTES and (os.cpu_count() or 1) >= 2


def flat_items_from_worker(export: Export, progress: Progress) -> Iterator[FlatItem]:
    """Every entry of the export, parsed and flattened by a worker process, in order."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    _widen_pipe(send)
    worker = context.Process(
        target=_produce, args=(str(export.path), send), name="archiver-import-reader", daemon=True
    )
    worker.start()
    send.close()  # the worker holds the only writing end: its exit (or death) is our EOF
    try:
        while True:
            try:
                advanced, payload = pickle.loads(receive.recv_bytes())
            except (EOFError, OSError):
                worker.join(timeout=10)
                yield FlatItem(
                    "",
                    0,
                    error=f"{export.path}: the export reader process stopped unexpectedly "
                    f"(exit code {worker.exitcode}); what was read before is saved",
                )
                return
            progress.advance(advanced)
            if payload is None:
                return
            if isinstance(payload, str):
                yield FlatItem("", 0, error=f"{export.path}: {payload}")
                return
            yield payload
    finally:
        receive.close()
        if worker.is_alive():
            worker.terminate()
        worker.join(timeout=10)


def _widen_pipe(connection: Any) -> None:
    """A 1 MiB pipe (Linux) lets the worker run a few conversations ahead of the saves; the
    pipe is also the bound on what is in flight. Elsewhere the default size just works."""
    size_flag = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if size_flag is None:
        return
    with contextlib.suppress(OSError):
        fcntl.fcntl(connection.fileno(), size_flag, PIPE_BYTES)


# -- the worker process ---------------------------------------------------------------------


class _ByteCounter:
    """Progress for the worker: bytes read since the last message, sent along with it."""

    def __init__(self) -> None:
        self.pending = 0

    def start(self, total: int | None, label: str) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        self.pending += amount

    def finish(self) -> None:
        pass

    def take(self) -> int:
        taken, self.pending = self.pending, 0
        return taken


def _produce(path: str, send: Any) -> None:
    """Worker process: parse and flatten every entry of the export at ``path``, in order, and
    send each as (bytes read, FlatItem); then (bytes read, None) when done, or a string saying
    why reading stopped. Pickled here rather than in a queue's feeder thread: no GIL contention
    between two threads of the worker."""
    counter = _ByteCounter()
    try:
        try:
            with open_export(path) as export:
                for item in iter_conversations(export, counter):
                    message = (counter.take(), flatten_item(item))
                    send.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))
            final: tuple[int, str | None] = (counter.take(), None)
        except (BrokenPipeError, ConnectionError):
            return  # the importing process is gone: nobody to report to
        except Exception as exc:  # reported by the importing process, which keeps what it saved
            final = (counter.take(), f"reading stopped ({type(exc).__name__}: {exc})")
        send.send_bytes(pickle.dumps(final, pickle.HIGHEST_PROTOCOL))
    except (BrokenPipeError, ConnectionError):
        return
    finally:
        send.close()
