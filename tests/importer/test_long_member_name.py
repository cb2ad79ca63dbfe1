"""Finding 13: a member whose name is near the 255-byte limit can still be extracted."""

from __future__ import annotations

import io

from archiver.importer.files import Extractor, FileEntry


def test_a_251_character_member_name_is_extracted(tmp_path):
    name = "file-" + "a" * 242 + ".png"
    assert len(name) == 251
    data = b"image bytes"
    entry = FileEntry(name, len(data), False, lambda: io.BytesIO(data))
    path = Extractor(tmp_path / "out").extract(entry)
    assert path.name == name and path.read_bytes() == data
    assert [p.name for p in path.parent.iterdir()] == [name]  # no temporary file left
