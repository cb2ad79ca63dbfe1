"""Capabilities whose work lives in a module loaded on first use, for providers whose
capability classes would only forward to it (import-only providers above all): ``provider.py``
names the module and stays light (``registry`` imports it for ``--help`` and ``archiver
providers``).

The module of a ``LazyExportFormat`` defines ``detect(files) -> bool`` and
``run(db, files, options, progress) -> Summary``; the module of a ``LazyReflatten`` defines
``rebuild(conversation, messages) -> FlatConversation`` (``base.ExportFormat`` and
``base.Reflatten`` say what each must do)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

from archiver.providers.base import ExportFormat, Reflatten

if TYPE_CHECKING:
    import sqlite_utils

    from archiver.flatten.records import FlatConversation
    from archiver.importer.source import ExportFiles, ImportOptions
    from archiver.progress import Progress
    from archiver.summary import Summary


class LazyExportFormat(ExportFormat):
    module: ClassVar[str]  # "archiver.providers.<name>.export"

    def detect(self, files: ExportFiles) -> bool:
        return bool(importlib.import_module(self.module).detect(files))

    def run(
        self,
        db: sqlite_utils.Database,
        files: ExportFiles,
        options: ImportOptions,
        progress: Progress | None = None,
    ) -> Summary:
        return cast(
            "Summary", importlib.import_module(self.module).run(db, files, options, progress)
        )


class LazyReflatten(Reflatten):
    module: ClassVar[str]  # "archiver.providers.<name>.flatten"

    def rebuild(
        self, conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
    ) -> FlatConversation:
        rebuilt = importlib.import_module(self.module).rebuild(conversation, messages)
        return cast("FlatConversation", rebuilt)
