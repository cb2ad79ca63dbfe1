from __future__ import annotations

from click.testing import CliRunner

from archiver.cli import cli
from tests.support.export_helpers import as_json, conversation, write_zip


def run(*args):
    return CliRunner().invoke(cli, ["import", *map(str, args)])


def test_import_prints_the_summary(tmp_path):
    path = write_zip(tmp_path / "export.zip", [conversation("c1")])
    result = run(tmp_path / "a.db", path)
    assert result.exit_code == 0, result.output
    assert (
        "import: read 1, new 1, updated 0, unchanged 0, skipped_older 0, failed 0" in result.output
    )
    assert run(tmp_path / "a.db", path, "-q").output == ""


def test_truncated_export_is_partial_and_names_the_file(tmp_path):
    data = as_json([conversation("c1"), conversation("c2")])
    path = tmp_path / "conversations.json"
    path.write_bytes(data[:-100])
    result = run(tmp_path / "a.db", path)
    assert result.exit_code == 3
    assert (
        "Error: conversations.json: invalid or truncated JSON in conversation #2" in result.output
    )
    assert "read 1, new 1" in result.output


def test_not_an_export_is_exit_2_without_traceback(tmp_path):
    path = tmp_path / "export.zip"
    path.write_text("certainly not a zip")
    result = run(tmp_path / "a.db", path)
    assert result.exit_code == 2
    assert "not an export archiver knows: found a file export.zip" in result.output
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit


def test_extract_files_option(tmp_path):
    conv = conversation("c1", image_pointer="file-service://file-Img1")
    path = write_zip(tmp_path / "export.zip", [conv], files={"file-Img1-a.png": b"png"})
    result = run(tmp_path / "a.db", path, "--extract-files", tmp_path / "files")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "files" / "file-Img1-a.png").read_bytes() == b"png"
    assert "attachments 1, files_stored 1, extracted 1" in result.output


def test_no_files_option(tmp_path):
    conv = conversation("c1", image_pointer="file-service://file-Img1")
    path = write_zip(tmp_path / "export.zip", [conv], files={"file-Img1-a.png": b"png"})
    result = run(tmp_path / "a.db", path, "--no-files")
    assert result.exit_code == 0, result.output
    assert "attachments 1, files_stored 0" in result.output
    assert not (tmp_path / "a.db.files").exists()
