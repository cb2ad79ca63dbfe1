"""The prompts CSV → validated rows. Pure: no network, no database.

The whole file is read and checked before anything is sent: a batch must never stop half-way
because row 9,000 is malformed. Every problem names its line (the physical line in the file,
counting the header as line 1), and up to ``MAX_REPORTED`` problems are reported at once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import string
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from archiver.errors import InputError

MAX_REPORTED = 10
PROMPT_COLUMN = "prompt"
ID_COLUMN = "id"
THREAD_COLUMN = "thread"
MODEL_COLUMN = "model"
SYSTEM_COLUMN = "system"
_KNOWN_COLUMNS = (PROMPT_COLUMN, ID_COLUMN, THREAD_COLUMN, MODEL_COLUMN, SYSTEM_COLUMN)
_FIELD_LIMIT = 64 * 1024 * 1024  # one prompt can be long; csv's default is 128 KiB


@dataclass(frozen=True)
class BatchRow:
    row_number: int  # 1-based among data rows: the input order results come back in
    line: int  # physical line in the file where the row starts
    key: str  # the ``id`` column, or derived from the row's cells
    prompt: str
    prompt_hash: str
    thread: str | None  # rows sharing a thread form one conversation, in file order
    model: str  # '' when neither the row nor the command names one
    # The system instruction sent before the conversation (the ``system`` column; None when
    # empty or absent). A thread uses its first row's: every row of a thread carries that one.
    system: str | None = None


@dataclass(frozen=True)
class BatchInput:
    path: str
    sha256: str
    columns: tuple[str, ...]
    rows: tuple[BatchRow, ...]

    @property
    def has_system(self) -> bool:
        """Some row carries a system instruction (only providers that take one accept it)."""
        return any(row.system is not None for row in self.rows)


def _known_column(column: str) -> str:
    folded = column.casefold()
    return folded if folded in _KNOWN_COLUMNS else column


def _sniff_delimiter(text: str) -> str:
    """``,`` unless the header row has none and uses ``;`` or a tab instead (spreadsheets in
    many locales save CSV with semicolons)."""
    first = text.split("\n", 1)[0]
    if "," in first:
        return ","
    for candidate in (";", "\t"):
        if candidate in first:
            return candidate
    return ","


def prompt_hash(prompt: str, system: str | None = None) -> str:
    """What makes a row the same row again: its prompt, and its system instruction when it has
    one (a row without one hashes as before the ``system`` column existed)."""
    if system is None:
        return hashlib.sha256(prompt.encode("utf-8")).hexdigest()
    framed = f"system:{len(system)}:{system}prompt:{prompt}"
    return hashlib.sha256(framed.encode("utf-8")).hexdigest()


def template_fields(template: str) -> list[str]:
    """The column names a ``--template`` uses; InputError if it is not a valid template."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InputError(f"--template is not a valid template: {exc}") from None
    names = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name or not name.replace("_", "").replace(" ", "").replace("-", "").isalnum():
            raise InputError(
                f"--template field {{{name}}} must be a plain column name "
                "(write {{ and }} for literal braces)"
            )
        if spec or conversion:
            raise InputError(f"--template field {{{name}}} cannot have a format or conversion")
        names.append(name)
    if not names:
        raise InputError("--template uses no column: write e.g. 'Summarise {title}'")
    return names


def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{path} line {line}: not UTF-8 (byte {data[exc.start]:#04x}); save the file as UTF-8"
        ) from None


def _derived_key(columns: Sequence[str], cells: Sequence[str]) -> str:
    canonical = json.dumps(dict(zip(columns, cells, strict=True)), sort_keys=True)
    return "row-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def read_batch_csv(
    path: str | Path, *, template: str | None = None, default_model: str | None = None
) -> BatchInput:
    """Read and validate the whole file. InputError (exit 2) names every bad line found."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None
    text = _decode(data, name)
    csv.field_size_limit(min(sys.maxsize, _FIELD_LIMIT))
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=delimiter)
    problems: list[str] = []

    def problem(line: int, message: str) -> None:
        problems.append(f"line {line}: {message}")

    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InputError(f"{name} line 1: {exc}") from None
    if header is None or not any(cell.strip() for cell in header):
        raise InputError(f"{name}: no header row (the file is empty)")
    # The columns archiver knows are matched case-insensitively ("Prompt", "ID"); others keep
    # their spelling, since --template names them.
    columns = tuple(_known_column(cell.strip()) for cell in header)
    seen_columns: dict[str, int] = {}
    for index, column in enumerate(columns, start=1):
        if not column:
            problem(1, f"column {index} of the header has no name")
        elif column in seen_columns:
            problem(1, f"column {column!r} appears twice in the header")
        seen_columns.setdefault(column, index)

    fields: list[str] = []
    if template is not None:
        fields = template_fields(template)
        missing = [f for f in dict.fromkeys(fields) if f not in seen_columns]
        if missing:
            raise InputError(
                f"{name} line 1: --template uses column(s) {', '.join(map(repr, missing))} "
                f"that the header does not have (it has: {', '.join(columns)})"
            )
    elif PROMPT_COLUMN not in seen_columns:
        raise InputError(
            f"{name} line 1: no {PROMPT_COLUMN!r} column; add one or pass --template "
            f"(the header has: {', '.join(columns)})"
        )

    rows: list[BatchRow] = []
    keys: dict[str, int] = {}
    derived_counts: dict[str, int] = {}
    thread_systems: dict[str, str | None] = {}
    has_id = ID_COLUMN in seen_columns
    line = 2
    while True:
        start = line
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problem(reader.line_num, str(exc))
            break
        line = reader.line_num + 1
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # blank line
        if len(cells) != len(columns):
            problem(start, f"{len(cells)} fields, but the header has {len(columns)}")
            continue
        record = dict(zip(columns, cells, strict=True))
        if template is not None:
            prompt = template.format_map({f: record[f] for f in fields})
            blank = all(not record[f].strip() for f in fields)
        else:
            prompt = record[PROMPT_COLUMN]
            blank = not prompt.strip()
        if blank or not prompt.strip():
            problem(start, "empty prompt")
            continue
        if has_id:
            key = record[ID_COLUMN].strip()
            if not key:
                problem(start, "empty id")
                continue
            if key in keys:
                problem(start, f"duplicate id {key!r} (first on line {keys[key]})")
                continue
        else:
            # Identical rows are legitimate (asking twice): number the repeats.
            base = _derived_key(columns, cells)
            derived_counts[base] = derived_counts.get(base, 0) + 1
            key = base if derived_counts[base] == 1 else f"{base}-{derived_counts[base]}"
        keys[key] = start
        thread = record.get(THREAD_COLUMN, "").strip() or None
        model = record.get(MODEL_COLUMN, "").strip() or (default_model or "")
        cell = record.get(SYSTEM_COLUMN, "")
        system = cell if cell.strip() else None  # blank: no system message at all
        if thread is not None:
            # A thread is one conversation: its first row's instruction holds for every turn.
            system = thread_systems.setdefault(thread, system)
        rows.append(
            BatchRow(
                row_number=len(rows) + 1,
                line=start,
                key=key,
                prompt=prompt,
                prompt_hash=prompt_hash(prompt, system),
                thread=thread,
                model=model,
                system=system,
            )
        )
    if problems:
        shown = "; ".join(problems[:MAX_REPORTED])
        more = f" (and {len(problems) - MAX_REPORTED} more)" if len(problems) > MAX_REPORTED else ""
        raise InputError(f"{name}: {shown}{more}; nothing was sent")
    if not rows:
        raise InputError(f"{name}: no prompts (only a header)")
    return BatchInput(
        path=name,
        sha256=hashlib.sha256(data).hexdigest(),
        columns=columns,
        rows=tuple(rows),
    )
