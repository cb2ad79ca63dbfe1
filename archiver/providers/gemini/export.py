"""``archiver import DB TAKEOUT`` for Google Takeout's Gemini activity (docs/gemini.md).

Detection is by content: an activity file (``MyActivity.json`` / ``.html``, whatever its name
in the account's language) is a JSON array of entries with ``header`` and ``title``, or a page
of Material Design Lite activity cells. A whole Takeout holds every product's activity alike:
only entries with Gemini's header are read; a Takeout without any is refused by name (exit 3).

Each prompt entry is filed in one conversation, in this order of preference:
1. where an earlier import (or backup) already filed it (re-imports add nothing twice);
2. the chat its ``details`` link names (``c_<id>``, the live backup's id);
3. the live chat holding the same prompt sent within a few seconds (older Takeouts name no
   chat);
4. otherwise by time: entries less than ``GAP_MINUTES`` apart share a conversation, named
   ``takeout-<16 hex>`` from its first entry; in a group some of whose entries were filed
   before (or are live prompts), an entry goes where the nearest such entry before it went
   (else the nearest after it).
Each conversation is then built from what the archive holds for it plus the new entries and
saved whole (``flatten``). Other Gemini activity (feedback, draft choices, Canvas, ...) is kept
whole in ``export_files``; uploads sitting beside the activity file go into the file store.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Any

import sqlite_utils

from archiver.errors import EXIT_OK, EXIT_PARTIAL
from archiver.flatten.linear import unique_ids
from archiver.flatten.records import FlatConversation, dumps
from archiver.importer.files import FileEntry, FileIndex
from archiver.importer.flat_import import Problem, import_flat
from archiver.importer.jsonarray import JSONArrayError, iter_json_array
from archiver.importer.source import NOT_AN_ARRAY, ExportFiles, ImportOptions, first_array_item
from archiver.importer.summary import ImportSummary
from archiver.progress import Progress
from archiver.providers.gemini.flatten import GeminiChat, flatten_chat, gems_of
from archiver.providers.gemini.stored import live_match, load_chat, placed, save_gems
from archiver.providers.gemini.takeout import (
    Entry,
    EntryError,
    Record,
    activity_time,
    entry_of,
    record_from_json,
)
from archiver.providers.gemini.takeout_html import (
    entry_cells,
    looks_like_activity_page,
    record_from_cell,
)
from archiver.store.extras import ExportFile, save_export_file
from archiver.timeutil import to_datetime

GAP_MINUTES = 30
HTML_HEAD = 1024 * 1024  # how much of an HTML file detection reads
# Activity files are named for the account's language: My Activity, Meine Aktivitäten, ...
_NAME_HINTS = ("activity", "aktivit", "activit", "atividad", "actividad", "attivit")
MAX_EXAMPLES = 3  # errors shown per kind of problem


@dataclass(frozen=True)
class ActivityFile:
    entry: FileEntry
    form: str  # "json" | "html"

    @property
    def name(self) -> str:
        return self.entry.name


def _looks_like_activity_json(item: Any) -> bool:
    return isinstance(item, dict) and "header" in item and "title" in item


def _candidates(files: ExportFiles) -> list[FileEntry]:
    found = []
    for entry in files.entries:
        path = PurePosixPath(entry.name)
        if path.suffix.lower() not in (".json", ".html") or entry.is_symlink:
            continue
        stem = path.stem.lower().replace(" ", "")
        if (
            files.kind == "file"
            or any(h in stem for h in _NAME_HINTS)
            or path.parent.name.lower().startswith("gemini")
        ):
            found.append(entry)
    return found


def activity_files(files: ExportFiles) -> list[ActivityFile]:
    """The export's activity files, by their content."""
    found: list[ActivityFile] = []
    for entry in _candidates(files):
        if PurePosixPath(entry.name).suffix.lower() == ".json":
            first = first_array_item(files, entry)
            if first is NOT_AN_ARRAY:
                head = files.head(entry).lstrip()
                keys = (b'"header"', b'"title"', b'"products"')
                if head.startswith(b"[") and all(key in head for key in keys):
                    found.append(ActivityFile(entry, "json"))
            elif _looks_like_activity_json(first):
                found.append(ActivityFile(entry, "json"))
        else:
            page = files.head(entry, HTML_HEAD).decode("utf-8", "replace")
            if looks_like_activity_page(page):
                found.append(ActivityFile(entry, "html"))
    return found


@dataclass
class GeminiImportSummary(ImportSummary):
    entries: int = 0  # prompt entries read (each one user message, visible or matched)
    matched: int = 0  # of which a live backup already held (filed onto its turns)
    activity: int = 0  # other Gemini activity kept whole in export_files (new rows)
    gems: int = 0  # Gems recorded for the first time
    other_products: int = 0  # entries of other Google products, left out

    @property
    def exit_code(self) -> int:
        """Any problem is partial (exit 3): the rest of the Takeout was imported."""
        return EXIT_PARTIAL if self.errors else EXIT_OK


@dataclass
class _Read:
    """Everything read from the activity files."""

    entries: list[Entry] = field(default_factory=list)
    activity: list[tuple[str, Record]] = field(default_factory=list)  # (file, record)
    problems: list[Problem] = field(default_factory=list)
    others: Counter[str] = field(default_factory=Counter)  # other products' headers
    folders: set[str] = field(default_factory=set)  # folders holding Gemini activity


def _json_records(activity: ActivityFile, read: _Read) -> list[Record]:
    records: list[Record] = []
    count = 0
    try:
        with activity.entry.open() as stream:
            for item in iter_json_array(stream.read):
                count += 1
                if isinstance(item, dict):
                    records.append(record_from_json(item))
                else:
                    read.problems.append(
                        Problem(f"{activity.name} entry {count}", "not an activity entry")
                    )
    except (JSONArrayError, OSError, zipfile.BadZipFile, EOFError) as exc:
        read.problems.append(
            Problem(
                activity.name,
                f"truncated or invalid JSON after {count} entries ({exc}); "
                "the entries before it were imported",
            )
        )
    return records


def _html_records(activity: ActivityFile, read: _Read, max_bytes: int) -> list[Record]:
    try:
        with activity.entry.open() as stream:
            data = stream.read(max_bytes + 1)
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        read.problems.append(Problem(activity.name, f"could not be read ({exc})"))
        return []
    if len(data) > max_bytes:
        read.problems.append(Problem(activity.name, f"larger than {max_bytes} bytes: not read"))
        return []
    cells = entry_cells(data.decode("utf-8", "replace"))
    if not cells:
        read.problems.append(
            Problem(activity.name, "an activity page in a layout archiver does not read")
        )
    return [record_from_cell(cell) for cell in cells]


def read_activity(files: list[ActivityFile], options: ImportOptions) -> _Read:
    read = _Read()
    for activity in files:
        if activity.form == "json":
            records = _json_records(activity, read)
        else:
            records = _html_records(activity, read, options.limits.max_file_bytes)
        for number, record in enumerate(records, 1):
            if not record.is_gemini:
                read.others[record.header or "(no header)"] += 1
                continue
            read.folders.add(str(PurePosixPath(activity.name).parent))
            try:
                entry = entry_of(record)
            except EntryError as exc:
                read.problems.append(Problem(f"{activity.name} entry {number}", str(exc)))
                continue
            if entry is None:
                read.activity.append((activity.name, record))
            else:
                read.entries.append(entry)
    # Keys are unique over the whole Takeout: the same prompt sent twice in one second.
    read.entries.sort(key=lambda e: (e.time, e.key))
    keys = unique_ids(e.key for e in read.entries)
    read.entries = [replace(e, key=k) for e, k in zip(read.entries, keys, strict=True)]
    return read


def _gap_groups(entries: list[Entry]) -> list[list[Entry]]:
    """Entries (by time) less than GAP_MINUTES apart, grouped."""
    groups: list[list[Entry]] = []
    last = None
    for entry in sorted(entries, key=lambda e: (e.time, e.key)):
        when = to_datetime(entry.time)
        if (
            groups
            and last is not None
            and when is not None
            and when - last < timedelta(minutes=GAP_MINUTES)
        ):
            groups[-1].append(entry)
        else:
            groups.append([entry])
        last = when or last
    return groups


def file_entries(db: sqlite_utils.Database, entries: list[Entry]) -> dict[str, list[Entry]]:
    """Conversation id → the entries filed there (see the module docstring)."""
    before = placed(db, (e.key for e in entries))
    filed: dict[str, list[Entry]] = {}
    unlinked: list[Entry] = []
    for entry in entries:
        if entry.key in before:
            filed.setdefault(before[entry.key], []).append(entry)
        elif entry.chat_ids:
            filed.setdefault(entry.chat_ids[0], []).append(entry)
        else:
            unlinked.append(entry)
    unlinked_keys = {e.key for e in unlinked}
    for group in _gap_groups([e for e in entries if not e.chat_ids]):
        homes = [before.get(e.key) or live_match(db, e) for e in group]
        derived = "takeout-" + group[0].key.removeprefix("t_").split("~")[0]
        for index, entry in enumerate(group):
            if entry.key not in unlinked_keys:
                continue
            # Its own chat, else the nearest one before it in the group, else after it.
            earlier = [h for h in homes[index::-1] if h]
            later = [h for h in homes[index:] if h]
            filed.setdefault((earlier or later or [derived])[0], []).append(entry)
    return filed


def _activity_files(db: sqlite_utils.Database, activity: list[tuple[str, Record]]) -> int:
    new = 0
    for name, record in activity:
        content = dumps(record.raw)
        data = content.encode()
        path = name.removeprefix("Takeout/")
        label = f"{path}#{activity_time(record) or 'no time'} {record.title[:120]}"
        new += save_export_file(
            db,
            ExportFile(label, hashlib.sha256(data).hexdigest(), len(data), "json", content),
        )
    return new


def _file_index(files: ExportFiles, folders: set[str], activity: list[ActivityFile]) -> FileIndex:
    """Uploads sit beside the activity file: each one found by its name there."""
    index = FileIndex([])
    skip = {a.name for a in activity}
    for entry in files.entries:
        path = PurePosixPath(entry.name)
        if str(path.parent) in folders and entry.name not in skip and not entry.is_symlink:
            index.add_alias(path.name, entry)
    return index


def _collapse(errors: list[str]) -> list[str]:
    """At most MAX_EXAMPLES errors of each kind (the same reason), then how many more."""
    kept: list[str] = []
    seen: Counter[str] = Counter()
    for error in errors:
        reason = error.split(": ", 1)[-1]
        seen[reason] += 1
        if seen[reason] <= MAX_EXAMPLES:
            kept.append(error)
    kept += [
        f"... and {n - MAX_EXAMPLES} more entries: {r}" for r, n in seen.items() if n > MAX_EXAMPLES
    ]
    return kept


def import_takeout(
    db: sqlite_utils.Database,
    files: ExportFiles,
    options: ImportOptions,
    progress: Progress | None = None,
) -> GeminiImportSummary:
    found = activity_files(files)
    read = read_activity(found, options)
    filed = file_entries(db, read.entries)
    flats: list[FlatConversation | Problem] = []
    gems: dict[str, tuple[str | None, Any]] = {}
    matched = 0
    for conversation_id, entries in filed.items():
        chat = (load_chat(db, conversation_id) or GeminiChat(conversation_id)).with_entries(entries)
        flat = flatten_chat(chat)
        matched += sum(1 for row in flat.messages if row["content_type"] == "takeout_match")
        gems.update(gems_of(chat))
        flats.append(flat)
    summary = import_flat(
        db,
        [*flats, *read.problems],
        options,
        summary=GeminiImportSummary(),
        files=_file_index(files, read.folders, found),
        progress=progress,
        total=len(flats) + len(read.problems),
        keep_newer=False,
    )
    summary.entries = len(read.entries)
    summary.matched = matched
    summary.other_products = sum(read.others.values())
    summary.activity = _activity_files(db, read.activity)
    summary.gems = save_gems(db, gems)
    if not read.entries and not read.activity and not read.problems:
        shown = ", ".join(f"{h} ({n})" for h, n in read.others.most_common(5)) or "no entries"
        summary.errors.append(
            f"{files.path}: no Gemini Apps activity in this Takeout (found {shown}): export "
            "My Activity with Gemini Apps selected"
        )
    summary.errors = _collapse(summary.errors)
    return summary


def detect(files: ExportFiles) -> bool:
    return bool(activity_files(files))


run_import = import_takeout  # the name the contract gives it (archiver/providers/modules.py)

__all__ = [
    "GAP_MINUTES",
    "ActivityFile",
    "GeminiImportSummary",
    "activity_files",
    "file_entries",
    "import_takeout",
    "read_activity",
]
