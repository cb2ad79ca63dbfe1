"""Files the archive writes for its user (exports, batch results, renewed session cookies):
private (0600) like the database itself, and never left half written.

Each is written to a temporary file beside its target, flushed, then renamed over it, so a
reader (or a crash) sees the old file or the new one, never a mix."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def private_writer(
    path: str | Path, *, encoding: str = "utf-8", newline: str | None = None
) -> Iterator[IO[str]]:
    """A text stream whose content replaces ``path`` (mode 0600) when the block ends
    without an exception; on an exception the target is left as it was."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline=newline) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_private_text(path: str | Path, text: str) -> None:
    with private_writer(path) as stream:
        stream.write(text)
