"""The export's files (docs/protocol/chatgpt-export.md, "Files"): found by id prefix in every
layout, named on the attachment row, stored once in the content-addressed file store beside
the database (sha256 on the row), skipped with --no-files, refused over the size limit."""

from __future__ import annotations

import hashlib
import json

from archiver.importer.files import ExtractLimits
from archiver.providers.chatgpt.export.run import import_export
from archiver.providers.chatgpt.files import pending_files
from archiver.store import open_db
from archiver.store.filestore import FileStore
from tests.support.export_helpers import conversation, write_zip

LAYOUTS = {
    # pointer -> (member name, bytes)
    "sediment://file_00000000a1b2c3": (
        "user-AbC123/file_00000000a1b2c3-6f1c2d3e-aaaa-bbbb-cccc-0123456789ab.png",
        b"sediment image",
    ),
    "file-service://file-Dal1E": (
        "dalle-generations/file-Dal1E-0a1b2c3d-1111-2222-3333-444455556666.webp",
        b"dalle image",
    ),
    "file-service://file-Up1oad": ("file-Up1oad-My holiday photo.jpeg", b"upload"),
    "sediment://file_00ff99": ("file_00ff99-scan.pdf", b"scan"),
    "sediment://file_00aud10": ("c4/audio/file_00aud10-voice.wav", b"audio"),
    "file-service://file-NoPrefix": ("c5/renamed-in-2026.png", b"named by the manifest"),
}


def export_with_all_layouts(tmp_path):
    convs = [conversation(f"c{i}", image_pointer=p) for i, p in enumerate(LAYOUTS)]
    files = {name: data for name, data in LAYOUTS.values()}
    files["conversation_asset_file_names.json"] = json.dumps(
        {"file-NoPrefix": "c5/renamed-in-2026.png"}
    ).encode()
    return write_zip(tmp_path / "export.zip", convs, files=files)


def rows(db):
    return db.execute(
        "SELECT asset_pointer, file_name, sha256, download_status FROM attachments ORDER BY 1"
    ).fetchall()


def test_every_layout_is_found_named_and_stored(tmp_path):
    db = open_db(tmp_path / "a.db")
    summary = import_export(db, export_with_all_layouts(tmp_path))
    assert summary.exit_code == 0, summary.errors
    assert (summary.attachments, summary.files_stored) == (6, 6)
    store = FileStore.for_database(tmp_path / "a.db")
    for pointer, name, sha256, status in rows(db):
        member, data = LAYOUTS[pointer]
        assert (name, status) == (member, "stored")
        assert sha256 == hashlib.sha256(data).hexdigest()
        assert store.path_for(sha256).read_bytes() == data
    assert pending_files(db) == []  # the live backup will not download them again


def test_a_second_import_reads_no_file_again(tmp_path):
    db = open_db(tmp_path / "a.db")
    path = export_with_all_layouts(tmp_path)
    import_export(db, path)
    before = rows(db)
    summary = import_export(db, path)
    assert (summary.unchanged, summary.attachments, summary.files_stored) == (6, 6, 0)
    assert rows(db) == before


def test_one_file_pointed_at_twice_is_stored_once(tmp_path):
    convs = [
        conversation("c1", image_pointer="file-service://file-Same1"),
        conversation("c2", image_pointer="file-service://file-Same1", attachment_id="file-Same1"),
    ]
    path = write_zip(tmp_path / "e.zip", convs, files={"file-Same1-a.png": b"same"})
    db = open_db(tmp_path / "a.db")
    summary = import_export(db, path)
    assert (summary.attachments, summary.files_stored) == (3, 1)
    assert {r[2] for r in rows(db)} == {hashlib.sha256(b"same").hexdigest()}


def test_no_files_records_names_only(tmp_path):
    db = open_db(tmp_path / "a.db")
    summary = import_export(db, export_with_all_layouts(tmp_path), store_files=False)
    assert (summary.attachments, summary.files_stored, summary.exit_code) == (6, 0, 0)
    assert all(name and sha is None and status is None for _, name, sha, status in rows(db))
    assert not (tmp_path / "a.db.files").exists()
    assert len(pending_files(db)) == 6  # a later backup may still download them


def test_a_file_over_the_limit_is_named_refused_and_partial(tmp_path):
    convs = [
        conversation("c1", image_pointer="file-service://file-Big1"),
        conversation("c2", image_pointer="file-service://file-Small2"),
    ]
    files = {"file-Big1-huge.bin": b"x" * 3000, "file-Small2-a.png": b"ok"}
    path = write_zip(tmp_path / "e.zip", convs, files=files)
    db = open_db(tmp_path / "a.db")
    summary = import_export(db, path, limits=ExtractLimits(max_file_bytes=1000))
    assert summary.exit_code == 3 and summary.files_stored == 1
    assert len(summary.errors) == 1
    assert (
        "'file-Big1-huge.bin' is 3000 bytes, over the per-file limit of 1000" in (summary.errors[0])
    )
    status = dict(db.execute("SELECT asset_pointer, download_status FROM attachments"))
    assert status == {
        "file-service://file-Big1": "too_large",
        "file-service://file-Small2": "stored",
    }


def test_extract_files_still_writes_them_out_by_name(tmp_path):
    db = open_db(tmp_path / "a.db")
    dest = tmp_path / "out"
    summary = import_export(db, export_with_all_layouts(tmp_path), extract_dir=dest)
    assert summary.extracted == 6
    for member, data in LAYOUTS.values():
        assert (dest / member).read_bytes() == data
