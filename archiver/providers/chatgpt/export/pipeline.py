"""Flattened conversations for an import, made in this process or in a worker process.

Reading the export (inflating, cutting the array into entries) and flattening each entry is
pure work; saving is SQLite's. On a large export the two run side by side on two cores: a worker
process (``spawn``: a fresh interpreter, no inherited SQLite handles) reads and flattens, and
sends the rows in batches of plain tuples (``marshal``: the cheapest encoding to load, which
matters because the saving side is the busier one) over a pipe to the importing process, which
stays the one writer. Memory stays flat: what is in flight is bounded by the pipe (1 MiB) plus a
batch on each side.

The two sides share the flattening: whenever the importing process finds nothing to save, it
raises a shared "hungry" flag, and the worker hands it the next entry unflattened (the JSON
text, cheap to send) for it to flatten itself. Reading and flattening cost more than saving,
so without this the importing process waits for a third of the run; with it both cores stay
busy whatever the machine's balance between parsing and SQLite.

Errors keep their meaning: a conversation that cannot be flattened comes back as a failure
naming its file and number; a file that cannot be read further comes back as an error item; a
worker that dies is reported as an error and what was saved stays saved.

The cyclic garbage collector is paused while flattening: the rows are trees of dicts, lists and
strings that reference counting frees at once, and with the collector on, its passes over the
young objects of every node cost more than the flattening itself."""

from __future__ import annotations

import contextlib
import gc
import marshal
import multiprocessing
import operator
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

from archiver.flatten.records import CONVERSATION_COLUMNS, MESSAGE_COLUMNS
from archiver.progress import Progress
from archiver.providers.chatgpt.export.reader import (
    Export,
    ExportItem,
    iter_conversations,
    open_export,
)
from archiver.providers.chatgpt.flatten_raw import flatten_entry

# Below this much JSON, starting a second interpreter costs more than it saves.
PIPELINE_MIN_BYTES = 8 * 1024 * 1024
PIPE_BYTES = 1024 * 1024
# A batch over the pipe: this many message rows, or this many entries, whichever comes first.
BATCH_ROWS = 2000
BATCH_ITEMS = 64

_message_values = operator.itemgetter(*MESSAGE_COLUMNS)
_ATTACHMENT_KEYS = (
    "conversation_id",
    "message_node_id",
    "asset_pointer",
    "file_name",
    "mime_type",
    "size_bytes",
)


@dataclass
class FlatItem:
    """One entry of a conversation file, flattened (or why not)."""

    source: str
    number: int  # 1-based within its file
    where: str = ""  # how errors name it: "conversations.json #12 (id ...)"
    conversation: dict[str, Any] | None = None
    message_values: list[tuple[Any, ...]] = field(default_factory=list)  # MESSAGE_COLUMNS order
    attachments: list[dict[str, Any]] = field(default_factory=list)
    failure: str | None = None  # this conversation could not be flattened
    error: str | None = None  # the file could not be read further (not a conversation)


@dataclass
class ReaderTimes:
    """Where the reading side spent its time (seconds), for the import's timing report."""

    read: float = 0.0  # inflating and cutting the array into entries
    flatten: float = 0.0  # parsing and flattening the entries
    send: float = 0.0  # encoding batches and waiting for the pipe (the writer is busy)
    cpu: float = 0.0  # CPU time of the process that read (the worker, when there is one)
    wall: float = 0.0
    handed_over: int = 0  # entries the worker left to the importing process to flatten
    flatten_here: float = 0.0  # the importing process's time flattening those
    blocked: float = 0.0  # the importing process's time with nothing to do at all


def _where(item: ExportItem, conversation: dict[str, Any] | None) -> str:
    where = f"{item.source} #{item.number}"
    if conversation is not None:
        where += f" (id {conversation['id']})"
    return where


def flatten_item(item: ExportItem) -> FlatItem:
    if item.failure is not None:
        return FlatItem(item.source, item.number, _where(item, None), failure=item.failure)
    if item.error is not None or item.data is None:
        return FlatItem(item.source, item.number, error=item.error)
    try:
        flat = flatten_entry(item.data, source="export")
    except RecursionError:  # a value a thousand levels deep: no parser goes there
        return FlatItem(
            item.source,
            item.number,
            _where(item, None),
            failure="not a usable conversation (a value nested too deeply to read)",
        )
    except Exception as exc:  # a malformed entry must not stop the rest of the export
        return FlatItem(
            item.source,
            item.number,
            _where(item, None),
            failure=f"not a usable conversation ({exc})",
        )
    values = [_message_values(row) for row in flat.messages]
    return FlatItem(
        item.source,
        item.number,
        _where(item, flat.conversation),
        flat.conversation,
        values,
        flat.attachments,
    )


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic GC passes while importing (see the module docstring); restored after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _timed_entries(export: Export, progress: Progress, times: ReaderTimes) -> Iterator[ExportItem]:
    """Every entry of the export, its reading timed."""
    entries = iter_conversations(export, progress)
    while True:
        started = time.perf_counter()
        item = next(entries, None)
        times.read += time.perf_counter() - started
        if item is None:
            return
        yield item


def flat_items(export: Export, progress: Progress, times: ReaderTimes) -> Iterator[FlatItem]:
    """Every entry of the export, read and flattened in this process."""
    for item in _timed_entries(export, progress, times):
        started = time.perf_counter()
        flat = flatten_item(item)
        times.flatten += time.perf_counter() - started
        yield flat


def use_worker(export: Export, jobs: int | None) -> bool:
    """``jobs`` 1: one process; 2: a worker process; None: a worker for large exports when
    there is a second core. Even on a machine whose cores are busy with other work the second
    process pays (measured with one other busy process on 2 cores: 7.2 s instead of 9.7 s):
    the scheduler shares the cores among runnable processes, and the import then has two."""
    if jobs is not None:
        return jobs >= 2
    return export.total_bytes >= PIPELINE_MIN_BYTES and (os.cpu_count() or 1) >= 2


# -- the wire: plain tuples, marshalled ------------------------------------------------------


def to_wire(item: FlatItem) -> tuple[Any, ...]:
    conversation = (
        None
        if item.conversation is None
        else tuple(item.conversation[c] for c in CONVERSATION_COLUMNS)
    )
    attachments = [tuple(a.get(k) for k in _ATTACHMENT_KEYS) for a in item.attachments]
    return (
        item.source,
        item.number,
        item.where,
        conversation,
        item.message_values,
        attachments,
        item.failure,
        item.error,
    )


def from_wire(wire: tuple[Any, ...], times: ReaderTimes) -> FlatItem:
    if len(wire) == 3:  # an entry handed over unflattened: (source, number, JSON text)
        started = time.perf_counter()
        flat = flatten_item(ExportItem(*wire))
        times.flatten_here += time.perf_counter() - started
        times.handed_over += 1
        return flat
    source, number, where, conversation, values, attachments, failure, error = wire
    return FlatItem(
        source,
        number,
        where,
        None
        if conversation is None
        else dict(zip(CONVERSATION_COLUMNS, conversation, strict=True)),
        values,
        [dict(zip(_ATTACHMENT_KEYS, a, strict=True)) for a in attachments],
        failure,
        error,
    )


def flat_items_from_worker(
    export: Export,
    progress: Progress,
    times: ReaderTimes,
    idle: Callable[[], bool] | None = None,
) -> Iterator[FlatItem]:
    """Every entry of the export, read and flattened by a worker process, in order. ``idle``
    is called while no batch is ready (it does a little work and says whether more is left),
    so that the writer's waits are not wasted."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    _widen_pipe(send)
    hungry = context.RawValue("b", 0)  # set here when nothing is ready, cleared by the worker
    worker = context.Process(
        target=_produce,
        args=(str(export.path), send, hungry, export.max_entry_bytes),
        name="archiver-import-reader",
        daemon=True,
    )
    worker.start()
    send.close()  # the worker holds the only writing end: its exit (or death) is our EOF
    try:
        while True:
            if not receive.poll():
                hungry.value = 1
                while idle is not None and not receive.poll() and idle():
                    pass
            try:
                began = time.perf_counter()
                message = receive.recv_bytes()
                times.blocked += time.perf_counter() - began
                advanced, batch, final = marshal.loads(message)
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
            for wire in batch:
                yield from_wire(wire, times)
            if final is not None:
                reason, measured = final
                times.read, times.flatten, times.send, times.cpu, times.wall = measured
                if reason:
                    yield FlatItem("", 0, error=f"{export.path}: {reason}")
                return
    finally:
        receive.close()
        if worker.is_alive():
            worker.terminate()
        worker.join(timeout=10)


def _widen_pipe(connection: Any) -> None:
    """A 1 MiB pipe (Linux) lets the worker run a few batches ahead of the saves; the pipe is
    also the bound on what is in flight. Elsewhere the default size just works."""
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


def _produce(path: str, send: Any, hungry: Any, max_entry_bytes: int | None = None) -> None:
    """Worker process: read and flatten every entry of the export at ``path``, in order, and
    send batches as (bytes read, [wire items], None); the last message is (bytes read, [...],
    (reason reading stopped or None, timings)). While ``hungry`` is set, the next entry goes
    unflattened, at once."""
    counter = _ByteCounter()
    times = ReaderTimes()
    started = time.perf_counter()
    batch: list[tuple[Any, ...]] = []
    rows = 0

    def flush(final: Any = None) -> None:
        nonlocal batch, rows
        began = time.perf_counter()
        send.send_bytes(marshal.dumps((counter.take(), batch, final)))
        times.send += time.perf_counter() - began
        batch, rows = [], 0

    try:
        reason: str | None = None
        with collector_paused():
            try:
                with open_export(path, max_entry_bytes=max_entry_bytes) as export:
                    for entry in _timed_entries(export, counter, times):
                        if hungry.value and entry.data is not None:
                            hungry.value = 0
                            batch.append((entry.source, entry.number, entry.data))
                            flush()
                            continue
                        began = time.perf_counter()
                        item = flatten_item(entry)
                        times.flatten += time.perf_counter() - began
                        batch.append(to_wire(item))
                        rows += len(item.message_values)
                        if rows >= BATCH_ROWS or len(batch) >= BATCH_ITEMS:
                            flush()
            except (BrokenPipeError, ConnectionError):
                return  # the importing process is gone: nobody to report to
            except Exception as exc:  # reported by the importing process, which keeps what it saved
                reason = f"reading stopped ({type(exc).__name__}: {exc})"
        times.wall = time.perf_counter() - started
        times.cpu = time.process_time()
        flush((reason, (times.read, times.flatten, times.send, times.cpu, times.wall)))
    except (BrokenPipeError, ConnectionError):
        return
    finally:
        send.close()
