from __future__ import annotations

import io
import os

import pytest

from archiver.importer.files import (
    ExtractLimits,
    Extractor,
    ExtractRefused,
    FileEntry,
    FileIndex,
    file_id_of_pointer,
    unsafe_reason,
)


def entry(name, data=b"data", symlink=False):
    return FileEntry(name, len(data), symlink, lambda: io.BytesIO(data))


@pytest.mark.parametrize(
    ("pointer", "ident"),
    [
        ("file-service://file-Abc123", "file-Abc123"),
        ("sediment://file_00aa11", "file_00aa11"),
        ("file-Abc123", "file-Abc123"),
        ("https://example.com/x.png", None),
    ],
)
def test_file_id_of_pointer(pointer, ident):
    assert file_id_of_pointer(pointer) == ident


def test_index_matches_root_files_dalle_and_sediment():
    index = FileIndex(
        [
            entry("dalle-generations/file-Dal1-5f2e.webp"),
            entry("file-Abc-photo.png"),
            entry("user-1/file-Abc-photo.png"),
            entry("file_00ff-scan.jpg"),
            entry("file-Abcdef.png"),
            entry("chat.html"),
        ]
    )
    assert index.find("file-service://file-Abc").name == "file-Abc-photo.png"
    assert index.find("file-service://file-Abcdef").name == "file-Abcdef.png"
    assert index.find("file-service://file-Dal1").name == "dalle-generations/file-Dal1-5f2e.webp"
    assert index.find("sediment://file_00ff").name == "file_00ff-scan.jpg"
    assert index.find("file-service://file-Missing") is None


@pytest.mark.parametrize(
    "name", ["../evil", "a/../../evil", "/abs/file", "C:\\x\\file", "..\\evil", "a\x00b"]
)
def test_unsafe_names(name):
    assert unsafe_reason(name) is not None


def test_safe_names():
    assert unsafe_reason("dalle-generations/file-x.webp") is None
    assert unsafe_reason("./file-x.png") is None


def test_extract_writes_inside_dest_only(tmp_path):
    dest = tmp_path / "out"
    extractor = Extractor(dest)
    path = extractor.extract(entry("dalle-generations/file-x.webp", b"image"))
    assert path == dest.resolve() / "dalle-generations" / "file-x.webp"
    assert path.read_bytes() == b"image"
    assert extractor.extracted == 1
    # Extracting again (a re-run) finds it in place.
    assert Extractor(dest).extract(entry("dalle-generations/file-x.webp", b"image")) == path


@pytest.mark.parametrize("name", ["../file-a.png", "/tmp/file-a.png", "x/../../file-a.png"])
def test_extract_refuses_traversal(tmp_path, name):
    with pytest.raises(ExtractRefused, match="refused"):
        Extractor(tmp_path / "out").extract(entry(name))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_extract_refuses_symlink_entries(tmp_path):
    with pytest.raises(ExtractRefused, match="symbolic link"):
        Extractor(tmp_path / "out").extract(entry("file-a.png", b"/etc/passwd", symlink=True))


def test_extract_never_writes_through_a_planted_symlink(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "out"
    dest.mkdir()
    os.symlink(outside, dest / "dalle-generations")
    with pytest.raises(ExtractRefused, match="not a plain folder"):
        Extractor(dest).extract(entry("dalle-generations/file-x.webp"))
    victim = outside / "target.txt"
    victim.write_text("keep")
    os.symlink(victim, dest / "file-y.png")
    path = Extractor(dest).extract(entry("file-y.png", b"new"))
    assert victim.read_text() == "keep"
    assert not path.is_symlink() and path.read_bytes() == b"new"


def test_size_limits(tmp_path):
    limits = ExtractLimits(max_file_bytes=10, max_total_bytes=15)
    extractor = Extractor(tmp_path / "out", limits)
    with pytest.raises(ExtractRefused, match="per-file limit"):
        extractor.extract(entry("file-big.png", b"x" * 11))
    extractor.extract(entry("file-a.png", b"x" * 8))
    with pytest.raises(ExtractRefused, match="total extraction limit"):
        extractor.extract(entry("file-b.png", b"x" * 8))
    # A member that lies about its size is cut off while copying, and leaves nothing behind.
    liar = FileEntry("file-liar.png", 1, False, lambda: io.BytesIO(b"y" * 50))
    with pytest.raises(ExtractRefused, match="grew past"):
        Extractor(tmp_path / "out2", limits).extract(liar)
    assert list((tmp_path / "out2").iterdir()) == []
