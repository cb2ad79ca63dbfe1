"""The worker-process import (jobs=2) gives the same archive, counts and errors as jobs=1."""

from __future__ import annotations

import marshal

from archiver.providers.chatgpt.export.pipeline import (
    ReaderTimes,
    _produce,
    flatten_item,
    from_wire,
    use_worker,
)
from archiver.providers.chatgpt.export.reader import ExportItem, open_export
from archiver.providers.chatgpt.export.run import import_export
from archiver.store import open_db
from tests.support.export_helpers import as_json, conversation, write_zip


def dump(db):
    """Every stored row, without the import's own timestamps."""
    conversations = db.execute(
        "SELECT id, title, node_count, content_hash, raw_json FROM conversations ORDER BY id"
    ).fetchall()
    messages = db.execute(
        "SELECT conversation_id, id, parent_id, children, position, depth, on_current_branch, "
        "role, text, create_time, raw_json FROM messages ORDER BY conversation_id, id"
    ).fetchall()
    attachments = db.execute(
        "SELECT conversation_id, message_node_id, asset_pointer, file_name, extracted_path "
        "FROM attachments ORDER BY 1, 2, 3"
    ).fetchall()
    fts = db.execute("SELECT rowid, text FROM messages_fts ORDER BY rowid").fetchall()
    return conversations, messages, attachments, fts


class Bytes:
    def __init__(self) -> None:
        self.total = 0
        self.advanced = 0

    def start(self, total, label):
        self.total = total

    def advance(self, amount=1):
        self.advanced += amount

    def finish(self):
        pass


def test_worker_import_matches_the_single_process_import(tmp_path):
    good = [conversation(f"c{i}") for i in range(5)]
    good[1] = conversation("c1", image_pointer="file-service://file-Img1")
    export = write_zip(
        tmp_path / "export.zip",
        files={
            "conversations-000.json": as_json([*good[:3], 42, {"title": "no id"}]),
            "conversations-001.json": as_json(good[3:])[:-40],  # truncated
            "file-Img1-photo.png": b"png!",
        },
    )
    results = []
    for jobs in (1, 2):
        db = open_db(tmp_path / f"jobs{jobs}.db")
        progress = Bytes()
        summary = import_export(
            db, export, jobs=jobs, extract_dir=tmp_path / f"files{jobs}", progress=progress
        )
        assert progress.advanced == progress.total > 0
        rows = dump(db)
        # Extracted paths differ by destination folder only.
        attachments = [(*r[:4], r[4].rsplit("/", 1)[-1]) for r in rows[2]]
        results.append((summary.counts(), summary.errors, rows[0], rows[1], attachments, rows[3]))
    single, worker = results
    assert worker == single
    counts, errors = single[0], single[1]
    assert (counts["read"], counts["new"], counts["failed"], counts["extracted"]) == (6, 4, 2, 1)
    assert errors[0].startswith("conversations-000.json #4: not a usable conversation")
    assert errors[2].startswith("conversations-001.json: invalid or truncated JSON")


def test_a_large_export_uses_the_worker_unless_told_otherwise(tmp_path):
    path = tmp_path / "conversations.json"
    path.write_bytes(as_json([conversation("c1")]))
    with open_export(path) as export:
        assert not use_worker(export, None)  # small: not worth a second interpreter
        assert use_worker(export, 2) and not use_worker(export, 1)


class Flag:
    """The shared "hungry" flag: ``always`` keeps it raised, as an importer always waiting."""

    def __init__(self, always: bool = False) -> None:
        self.always = always
        self.cleared = 0

    @property
    def value(self) -> int:
        return int(self.always)

    @value.setter
    def value(self, new: int) -> None:
        self.cleared += new == 0


class Sink:
    def __init__(self) -> None:
        self.messages: list = []

    def send_bytes(self, data: bytes) -> None:
        self.messages.append(marshal.loads(data))

    def close(self) -> None:
        pass


def test_the_worker_sends_items_bytes_read_and_done(tmp_path):
    path = tmp_path / "conversations.json"
    path.write_bytes(as_json([conversation("c1"), "junk"]))
    sink = Sink()
    _produce(str(path), sink, Flag())
    [(read, batch, (reason, timings))] = sink.messages
    first, second = (from_wire(w, ReaderTimes()) for w in batch)
    assert first.conversation["id"] == "c1" and first.number == 1
    assert second.failure is not None and second.where == "conversations.json #2"
    assert reason is None and read == path.stat().st_size
    assert len(timings) == 5


def test_the_worker_reports_why_it_stopped(tmp_path):
    sink = Sink()
    _produce(str(tmp_path / "missing.json"), sink, Flag())
    [(_, batch, (reason, _timings))] = sink.messages
    assert batch == []
    assert isinstance(reason, str) and "no such file" in reason


def test_a_hungry_importer_is_handed_entries_to_flatten_itself(tmp_path):
    path = tmp_path / "conversations.json"
    entries = [conversation("c1"), conversation("c2", image_pointer="file-service://file-X")]
    path.write_bytes(as_json([*entries, "junk"]))
    sink, flag = Sink(), Flag(always=True)
    _produce(str(path), sink, flag)
    wires = [wire for _, batch, _ in sink.messages for wire in batch]
    # Each entry went at once, unflattened (the flag cleared each time); the error item too.
    assert [len(w) for w in wires] == [3, 3, 3] and flag.cleared == 3
    times = ReaderTimes()
    handed = [from_wire(w, times) for w in wires]
    assert times.handed_over == 3
    expected = [flatten_item(ExportItem(path.name, n, w[2])) for n, w in enumerate(wires, 1)]
    assert handed == expected
    assert [h.conversation["id"] for h in handed[:2]] == ["c1", "c2"]
    assert handed[1].attachments and handed[2].failure is not None
