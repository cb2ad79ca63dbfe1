"""Bad exports (issue: bad input): every problem is one clear line naming the file and the
conversation (numbered from 1), the rest imports, exit 3; exit 2 when nothing usable is left."""

from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.errors import InputError
from archiver.importer.files import ExtractLimits, MiB
from archiver.providers.chatgpt.export.run import import_export
from archiver.store import open_db
from tests.support.export_helpers import as_json, conversation, write_zip


@pytest.fixture
def db(tmp_path):
    return open_db(tmp_path / "archive.db")


def ids(db):
    return [r[0] for r in db.execute("SELECT id FROM conversations ORDER BY id")]


def test_a_split_file_truncated_in_the_middle_names_file_and_number(db, tmp_path):
    data = as_json([conversation("a1"), conversation("a2"), conversation("a3")])
    cut = data.index(b'"a3-u"')  # inside the third conversation
    path = write_zip(
        tmp_path / "e.zip",
        files={
            "conversations-000.json": as_json([conversation("z0")]),
            "conversations-001.json": data[:cut],
            "conversations-002.json": as_json([conversation("z2")]),
        },
    )
    summary = import_export(db, path)
    assert ids(db) == ["a1", "a2", "z0", "z2"]
    assert summary.exit_code == 3
    [error] = summary.errors
    assert error.startswith("conversations-001.json: invalid or truncated JSON in conversation #3")
    assert error.endswith("the 2 conversation(s) before it are read, the rest of this file is not")


def test_a_file_that_is_not_json_at_all_is_named_and_the_rest_imports(db, tmp_path):
    path = write_zip(
        tmp_path / "e.zip",
        files={
            "conversations-000.json": b"<html>an error page saved as JSON</html>",
            "conversations-001.json": as_json([conversation("ok")]),
        },
    )
    summary = import_export(db, path)
    assert ids(db) == ["ok"] and summary.exit_code == 3
    assert summary.errors == ["conversations-000.json: not a JSON array of conversations"]


def test_an_entry_with_invalid_utf8_fails_alone(db, tmp_path):
    good = as_json([conversation("g1")])[1:-1]
    bad = as_json([conversation("b1", answer="BROKEN")])[1:-1].replace(b"BROKEN", b"\xff\xfe")
    path = tmp_path / "conversations.json"
    path.write_bytes(b"[" + good + b", " + bad + b", " + good.replace(b"g1", b"g2") + b"]")
    summary = import_export(db, path)
    assert ids(db) == ["g1", "g2"] and summary.exit_code == 3
    [error] = summary.errors
    assert error.startswith("conversations.json #2: not a usable conversation (invalid UTF-8")


def test_every_entry_failing_is_exit_2(db, tmp_path):
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([42, "text", {"title": "no id"}, None]))
    summary = import_export(db, path)
    assert (summary.read, summary.failed, summary.exit_code) == (4, 4, 2)
    assert [e.split(":")[0] for e in summary.errors] == [
        f"conversations.json #{n}" for n in range(1, 5)
    ]


@pytest.mark.parametrize("name", ["../conversations.json", "/conversations.json"])
def test_conversations_only_under_an_unsafe_name_is_nothing_readable(db, tmp_path, name):
    path = tmp_path / "e.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo(name), as_json([conversation("x")]))
    with pytest.raises(InputError, match=r"no conversations\.json"):
        import_export(db, path)
    assert ids(db) == []


def test_unsafe_member_names_beside_good_conversations_are_named_and_partial(db, tmp_path):
    path = write_zip(
        tmp_path / "e.zip",
        [conversation("c1")],
        raw_members={"../../etc/cron.d/x.json": b"{}", "C:\\temp\\user.json": b"{}"},
    )
    summary = import_export(db, path)
    assert ids(db) == ["c1"] and summary.exit_code == 3
    assert summary.errors == [
        "skipped member '../../etc/cron.d/x.json': its name climbs out of the folder (..)",
        "skipped member 'C:\\\\temp\\\\user.json': its name has an absolute path",
    ]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_conversation_nested_a_thousand_levels_deep_is_skipped_by_name(db, tmp_path, jobs):
    """Issue 27: it hit RecursionError in the splitter: a traceback, and the conversations after
    it were not imported."""
    deep = conversation("deep")
    deep["mapping"]["deep-a"]["message"]["metadata"]["nested"] = "@NESTED@"
    data = as_json([conversation("a1"), deep, conversation("a3")])
    data = data.replace(b'"@NESTED@"', b"[" * 1000 + b"]" * 1000)
    path = write_zip(tmp_path / "e.zip", files={"conversations.json": data})
    summary = import_export(db, path, jobs=jobs)
    assert ids(db) == ["a1", "a3"]
    assert summary.exit_code == 3 and summary.failed == 1
    assert summary.errors == [
        "conversations.json #2: not a usable conversation (a value nested too deeply to read)"
    ]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_zip_bomb_entry_is_refused_by_name_and_the_rest_imports(db, tmp_path, jobs):
    """Issue 27: a small zip whose one message inflates to gigabytes drove the import to 9 GB
    of memory. A conversation over the cap (--max-entry-mb, 256 by default) is refused."""
    bomb = conversation("bomb", answer="@BOMB@")
    data = as_json([conversation("a1"), bomb, conversation("a3")])
    data = data.replace(b"@BOMB@", b"A" * (3 * MiB))
    path = write_zip(tmp_path / "e.zip", files={"conversations.json": data})
    assert path.stat().st_size < 100_000
    summary = import_export(db, path, jobs=jobs, limits=ExtractLimits(max_entry_bytes=MiB))
    assert ids(db) == ["a1", "a3"]
    assert summary.exit_code == 3 and summary.failed == 1
    assert summary.errors == [
        "conversations.json #2: refused: 3 MB of JSON, more than --max-entry-mb 1 "
        "(raise it to import this conversation)"
    ]
    again = import_export(db, path, jobs=jobs, limits=ExtractLimits(max_entry_bytes=4 * MiB))
    assert again.exit_code == 0 and ids(db) == ["a1", "a3", "bomb"]


def test_import_takes_max_entry_mb(tmp_path):
    data = as_json([conversation("a1"), conversation("bomb", answer="B" * (2 * MiB))])
    path = write_zip(tmp_path / "e.zip", files={"conversations.json": data})
    result = CliRunner().invoke(
        cli, ["import", str(tmp_path / "a.db"), str(path), "--max-entry-mb", "1", "-q"]
    )
    assert result.exit_code == 3, result.output
    assert "conversations.json #2: refused: 2 MB of JSON" in result.output
