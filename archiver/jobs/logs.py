"""Logging for job runs: warnings (or everything with -v) to stderr, and with ``--log-file``
every job's start, end and errors appended to a 0600 file. Messages come from ArchiverError
texts and summaries, which never hold secrets.

Each line is written once per destination: a record flagged ``REPORTED`` (a job's end and its
errors, which ``archiver run`` already prints on stderr itself) goes to the log file only."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# ``extra={REPORTED: True}``: the command has shown this message on the terminal already.
REPORTED = "archiver_reported"


def _not_reported(record: logging.LogRecord) -> bool:
    return not getattr(record, REPORTED, False)


@contextmanager
def job_logging(*, verbose: bool, log_file: str | os.PathLike[str] | None) -> Iterator[None]:
    """Install the handlers for the duration of a command, then remove and close them."""
    logger = logging.getLogger("archiver")
    handlers: list[logging.Handler] = []
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    console.addFilter(_not_reported)
    handlers.append(console)
    if log_file is not None:
        path = Path(log_file).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        file_handler = logging.FileHandler(path, mode="a", encoding="utf-8")
        file_handler.setLevel(logging.INFO)
        handlers.append(file_handler)
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        logger.addHandler(handler)
    old_level, old_propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False  # the root logger's handlers (if any) would print twice
    try:
        yield
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
        logger.setLevel(old_level)
        logger.propagate = old_propagate
