"""An export format whose conversations are in the JSON files of one ``Shape`` (DeepSeek's,
Grok's, Le Chat's): detection is finding such files, and the import reads the conversations
of those, keeps the export's other JSON files whole and saves through ``import_flat``.

What is the format's own is only how its chosen files read (``ShapedExport.read``); its
``export.py`` offers the value's ``detect`` and ``run_import`` under the contract's names
(``archiver/providers/modules.py:ExportModule``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from archiver.flatten.records import FlatConversation
from archiver.importer.files import FileEntry, FileIndex
from archiver.importer.flat_import import Problem, import_flat
from archiver.importer.jsonitems import Shape, entries_of_shape, other_json
from archiver.importer.source import ExportFiles, ImportOptions
from archiver.importer.summary import ImportSummary

if TYPE_CHECKING:
    import sqlite_utils

    from archiver.progress import Progress


@dataclass(frozen=True)
class ShapedFiles:
    """An export's files as a shaped import splits them."""

    files: ExportFiles  # all of them (a format may match its attachments' bytes among them)
    chosen: list[FileEntry]  # the JSON files of the format's shape: its conversations
    # The other JSON files, kept whole after the conversations are saved: a reader may add to
    # the list while it reads (Grok's conversations file's other members).
    others: list[FileEntry]


@dataclass(frozen=True)
class Reading:
    """What a format reads from its files: each conversation (a ``Problem`` for one that
    cannot be read), the export's files the attachment rows point at, and how many entries
    to expect (for the progress bar; None when only reading tells)."""

    conversations: Iterable[FlatConversation | Problem]
    files: FileIndex | None = None
    total: int | None = None


@dataclass(frozen=True)
class ShapedExport:
    """A format's files are those of ``shape``; ``read`` turns them into conversations."""

    shape: Shape
    read: Callable[[ShapedFiles, ImportOptions], Reading]

    def detect(self, files: ExportFiles) -> bool:
        return bool(entries_of_shape(files, self.shape))

    def run_import(
        self,
        db: sqlite_utils.Database,
        files: ExportFiles,
        options: ImportOptions,
        progress: Progress | None = None,
    ) -> ImportSummary:
        chosen = entries_of_shape(files, self.shape)
        split = ShapedFiles(files, chosen, other_json(files, chosen))
        reading = self.read(split, options)
        return import_flat(
            db,
            reading.conversations,
            options,
            summary=ImportSummary(),
            files=reading.files,
            extras=split.others,
            progress=progress,
            total=reading.total,
        )


__all__ = ["Reading", "ShapedExport", "ShapedFiles"]
