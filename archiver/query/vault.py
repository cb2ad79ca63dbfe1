"""Export conversations into an Obsidian vault: one note per conversation, the files its messages
point at copied once into ``attachments/``, and re-exports that update the vault in place.

- A note's file name is its title made safe (no character Obsidian or a file system refuses
  or reads as syntax) and a short id that keeps it unique; a conversation already in the vault
  keeps the note it has, found by the ``id`` of its front matter (so a note the user renamed or
  moved is still the one updated).
- Each note carries the sha256 of what the export wrote (``archiver_sha256``): a note whose
  text no longer matches it was edited by the user and is kept unless ``force``.
- Attachments are named by their content (``attachments/<sha256[:20]><ext>``): the same bytes
  are copied once however many messages, conversations or exports bring them.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
import secrets
import shutil
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any

from archiver.errors import InputError
from archiver.privatefiles import write_private_text
from archiver.query.export import BlockReaders, load_conversation, plain_readers
from archiver.query.obsidian import NoteFiles, render_note, written_unchanged
from archiver.query.render import ConversationRows
from archiver.query.search import Executes
from archiver.query.thread import Branches, Turn, thread_events

ATTACHMENTS = "attachments"
UrlFor = Callable[[str, str], str | None]  # (provider, conversation id) -> its web address

_TITLE_BYTES = 120  # room for " (id).md" under the usual 255-byte limit of a file name
# Refused by Windows or macOS, or read as link, tag or block syntax by Obsidian.
_UNSAFE = re.compile(r'[\\/:*?"<>|#^\[\]\x00-\x1f\x7f]+')
_KEY = 20  # hex digits of the sha256 naming an attachment
_EXTENSION = re.compile(r"^\.[A-Za-z0-9]{1,10}$")
_HEAD_BYTES = 4096  # enough of a note to read its front matter's id


@dataclass
class VaultResult:
    out_dir: Path
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # edited by the user, not overwritten
    files_copied: int = 0
    files_missing: int = 0  # pointed at, but not stored in the archive

    def line(self) -> str:
        notes = len(self.written) + len(self.unchanged) + len(self.kept)
        text = (
            f"Exported {notes} note(s) to {self.out_dir}: {len(self.written)} written, "
            f"{len(self.unchanged)} unchanged; {self.files_copied} file(s) copied into "
            f"{ATTACHMENTS}/"
        )
        if self.files_missing:
            text += f", {self.files_missing} not stored in the archive (named, not linked)"
        if self.kept:
            names = ", ".join(p.name for p in self.kept[:3]) + (
                ", ..." if len(self.kept) > 3 else ""
            )
            text += f". {len(self.kept)} note(s) you edited kept as they are ({names}): --force overwrites them"
        return text


# --- names -------------------------------------------------------------------------------------


def _title_part(title: str | None) -> str:
    text = unicodedata.normalize("NFC", title or "")
    text = " ".join(_UNSAFE.sub(" ", text).split()).strip(". ")
    encoded = text.encode("utf-8")[:_TITLE_BYTES]
    text = encoded.decode("utf-8", "ignore").rstrip(". ")
    return text or "Untitled"


def _id_part(conversation_id: str, length: int) -> str:
    if re.fullmatch(r"[A-Za-z0-9_-]+", conversation_id) and length < len(conversation_id):
        return conversation_id[:length]
    if re.fullmatch(r"[A-Za-z0-9_-]+", conversation_id):
        return conversation_id
    return hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:length]


def note_names(title: str | None, conversation_id: str) -> Iterator[str]:
    """``<safe title> (<id start>).md``, with more of the id for each name already taken."""
    base = _title_part(title)
    for length in (8, 12, 16, 64):
        yield f"{base} ({_id_part(conversation_id, length)}).md"
    digest = hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()
    for n in range(2, 1000):
        yield f"{base} ({digest[:16]}-{n}).md"


def _front_matter_id(path: Path) -> str | None:
    try:
        with path.open("rb") as stream:
            head = stream.read(_HEAD_BYTES).decode("utf-8", "ignore")
    except OSError:
        return None
    if not head.startswith("---\n"):
        return None
    for line in head.split("\n")[1:]:
        if line.strip() == "---":
            return None
        if line.startswith("id:"):
            value = line[3:].strip()
            try:
                parsed = json.loads(value)
            except ValueError:
                return value.strip("'\"") or None
            return str(parsed) if parsed is not None else None
    return None


def _notes_in(directory: Path) -> Iterator[Path]:
    """Every note of the vault, hidden folders (``.obsidian``, ``.trash``) left out."""
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != ATTACHMENTS)
        for name in sorted(files):
            if name.endswith(".md") and not name.startswith("."):
                yield Path(root) / name


# --- attachments -------------------------------------------------------------------------------


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _extension(row: dict[str, Any]) -> str:
    suffix = Path(str(row.get("file_name") or "")).suffix
    if _EXTENSION.match(suffix):
        return suffix.lower()
    guessed = mimetypes.guess_extension(str(row.get("mime_type") or "")) or ""
    return guessed if _EXTENSION.match(guessed) else ""


class Attachments:
    """``DIR/attachments``: each content once, named by its sha256."""

    def __init__(self, vault: Path):
        self.directory = vault / ATTACHMENTS
        self.by_key: dict[str, str] = {}
        if self.directory.is_dir():
            for path in sorted(self.directory.iterdir()):
                key = path.name.split(".", 1)[0]
                if len(key) == _KEY and path.is_file():
                    self.by_key.setdefault(key, path.name)
        self.copied = 0

    def place(self, row: dict[str, Any]) -> str | None:
        """The vault path of the row's file (copied in if new), or None if not stored."""
        source = _source(row)
        if source is None:
            return None
        sha = str(row.get("sha256") or "") or _sha256_of(source)
        key = sha[:_KEY]
        name = self.by_key.get(key)
        if name is None:
            name = key + _extension(row)
            self.directory.mkdir(parents=True, exist_ok=True)
            target = self.directory / name
            tmp = self.directory / f".{name}.{secrets.token_hex(4)}.tmp"
            try:
                shutil.copyfile(source, tmp)
                os.chmod(tmp, 0o600)
                os.replace(tmp, target)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            self.by_key[key] = name
            self.copied += 1
        return f"{ATTACHMENTS}/{name}"


def _source(row: dict[str, Any]) -> Path | None:
    for key in ("extracted_path", "stored_path"):
        value = row.get(key)
        if value and Path(str(value)).is_file():
            return Path(str(value))
    return None


def note_files(
    doc: ConversationRows, branches: Branches, attachments: Attachments
) -> tuple[NoteFiles, int]:
    """The files of the messages the note shows, placed in the vault; and how many of them the
    archive does not hold."""
    shown = {
        str(event.message["id"])
        for event in thread_events(doc.messages, doc.conversation.get("current_node"), branches)
        if isinstance(event, Turn)
    }
    files = NoteFiles()
    missing = 0
    for row in doc.attachments:
        node = str(row.get("message_node_id"))
        if node not in shown:
            continue
        files.by_node.setdefault(node, []).append(row)
        href = attachments.place(row)
        pointer = str(row.get("asset_pointer") or "")
        if href is None:
            missing += 1
        elif pointer:
            files.links[pointer] = href
            files.links[pointer.split("://", 1)[-1]] = href
    return files, missing


# --- the export --------------------------------------------------------------------------------


def export_vault(
    db: Executes,
    out_dir: str | os.PathLike[str],
    conversation_ids: list[str],
    *,
    branches: Branches = "current",
    force: bool = False,
    url_for: UrlFor | None = None,
    tz: tzinfo | None = None,
    readers: BlockReaders = plain_readers,
) -> VaultResult:
    """Write (or update) one note per conversation in ``out_dir``. ``url_for`` gives a
    conversation's web address for the front matter, ``readers`` how each provider's messages
    read as blocks (both from the caller's provider registry); ``tz`` the zone times are shown
    in (the machine's own when None)."""
    directory = Path(out_dir)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"--out {directory} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    owners: dict[str, Path] = {}
    taken: set[str] = set()
    for path in _notes_in(directory):
        owner = _front_matter_id(path)
        if owner is not None:
            owners.setdefault(owner, path)
        if path.parent == directory:
            taken.add(path.name.casefold())
    attachments = Attachments(directory)
    result = VaultResult(directory)
    for conversation_id in conversation_ids:
        doc = load_conversation(db, conversation_id, readers)
        files, missing = note_files(doc, branches, attachments)
        result.files_missing += missing
        provider = str(doc.conversation.get("provider") or "")
        url = url_for(provider, conversation_id) if url_for else None
        text = render_note(doc, branches, files, url=url, tz=tz)
        owned = owners.get(conversation_id)
        if owned is None:
            name = next(
                n
                for n in note_names(doc.conversation.get("title"), conversation_id)
                if n.casefold() not in taken
            )
            taken.add(name.casefold())
            path = directory / name
        else:
            path = owned
            old = path.read_text(encoding="utf-8", errors="replace")
            if old == text:
                result.unchanged.append(path)
                continue
            if not force and not written_unchanged(old):
                result.kept.append(path)
                continue
        write_private_text(path, text)
        result.written.append(path)
    result.files_copied = attachments.copied
    return result
