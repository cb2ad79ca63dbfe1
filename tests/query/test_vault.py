"""The Obsidian vault writer on the sample archive: safe, unique and stable note names; YAML
front matter that survives hostile titles; re-exports that update notes in place and keep the
ones the user edited (unless --force); conversations picked by filters."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from pathlib import Path

import yaml
from click.testing import CliRunner

from archiver.cli import cli
from archiver.providers.registry import block_reader
from archiver.query.export import all_conversation_ids
from archiver.query.vault import export_vault as vault_writer
from archiver.query.vault import note_names
from tests.support.sample_archive import BING_ID, BRANCHED_ID, CONTENT_ID


def export_vault(*args, **kwargs):
    """The vault writer with each provider's own block reader, as ``archiver export`` runs it."""
    return vault_writer(*args, readers=block_reader, **kwargs)


def front(path: Path) -> dict:
    parts = path.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(parts[1]) if len(parts) == 3 else {}


def one(vault: Path, conversation_id: str) -> Path:
    (path,) = [p for p in vault.rglob("*.md") if front(p).get("id") == conversation_id]
    return path


def test_names_are_safe_unique_and_cut_to_fit():
    hostile = 'a/b\\c:d*e?f"g<h>i|j#k^l[m]n\x00o\n. '
    name = next(note_names(hostile, "c0ffee00-0000-4000-8000-000000000001"))
    assert name == "a b c d e f g h i j k l m n o (c0ffee00).md"
    assert next(note_names("  ..  ", "x1")) == "Untitled (x1).md"
    bing = next(note_names("Eiffel", BING_ID))
    assert "|" not in bing and "<" not in bing and bing.startswith("Eiffel (")
    long = next(note_names("é" * 300, "abcdef0123456789"))
    assert len(long.encode()) <= 255 - 20
    # More of the id when a name is taken.
    first, second = list(note_names("Chat", "abcdef0123456789"))[:2]
    assert (first, second) == ("Chat (abcdef01).md", "Chat (abcdef012345).md")


def test_hostile_titles_make_valid_front_matter(archive, tmp_path):
    title = 'He said: "no"\n- not: a list\u2028# not a comment \\ end'
    archive.execute("UPDATE conversations SET title = ? WHERE id = ?", [title, BRANCHED_ID])
    vault = tmp_path / "v"
    export_vault(
        archive, vault, [BRANCHED_ID], tz=UTC, url_for=lambda p, c: f"https://x.test/c/{c}"
    )
    meta = front(one(vault, BRANCHED_ID))
    assert meta["title"] == title and meta["aliases"] == [title]
    assert meta["url"] == f"https://x.test/c/{BRANCHED_ID}"
    export_vault(archive, tmp_path / "w", [BRANCHED_ID], url_for=lambda p, c: "javascript:alert(1)")
    assert "url" not in front(one(tmp_path / "w", BRANCHED_ID))


def test_times_are_local_and_readable(archive, tmp_path):
    export_vault(archive, tmp_path, [BRANCHED_ID], tz=timezone(timedelta(hours=2)))
    path = one(tmp_path, BRANCHED_ID)
    assert front(path)["created"] == "2023-12-06T04:40:00+02:00"
    assert "## User · 2023-12-06 04:40\n" in path.read_text()


def test_a_renamed_title_keeps_its_note_and_an_edited_note_is_kept(archive, tmp_path):
    ids = all_conversation_ids(archive)
    export_vault(archive, tmp_path, ids, tz=UTC)
    path = one(tmp_path, BRANCHED_ID)
    archive.execute(
        "UPDATE conversations SET title = 'Renamed upstream' WHERE id = ?", [BRANCHED_ID]
    )
    result = export_vault(archive, tmp_path, ids, tz=UTC)
    assert result.written == [path] and len(result.unchanged) == 2
    assert front(path)["title"] == "Renamed upstream"  # same file, new title
    # The user edits it: the next export keeps it, --force overwrites it.
    edited = path.read_text() + "\nMy own notes.\n"
    path.write_text(edited)
    archive.execute("UPDATE conversations SET title = 'Renamed again' WHERE id = ?", [BRANCHED_ID])
    kept = export_vault(archive, tmp_path, ids, tz=UTC)
    assert kept.kept == [path] and path.read_text() == edited
    assert "1 note(s) you edited kept as they are" in kept.line() and "--force" in kept.line()
    forced = export_vault(archive, tmp_path, ids, tz=UTC, force=True)
    assert forced.written == [path] and "My own notes" not in path.read_text()


def test_a_moved_note_is_updated_where_the_user_put_it(archive, tmp_path):
    export_vault(archive, tmp_path, [CONTENT_ID], tz=UTC)
    original = one(tmp_path, CONTENT_ID)
    (tmp_path / "Chats").mkdir()
    moved = original.rename(tmp_path / "Chats" / "My chart chat.md")
    archive.execute("UPDATE conversations SET title = 'Charts' WHERE id = ?", [CONTENT_ID])
    result = export_vault(archive, tmp_path, [CONTENT_ID], tz=UTC)
    assert result.written == [moved] and not original.exists()
    assert front(moved)["title"] == "Charts"


def test_a_note_of_the_user_is_never_taken_over(archive, tmp_path):
    name = next(note_names("Eiffel tower", BING_ID))
    (tmp_path / name).write_text("my own note with the same name\n")
    export_vault(archive, tmp_path, [BING_ID], tz=UTC)
    assert (tmp_path / name).read_text() == "my own note with the same name\n"
    assert one(tmp_path, BING_ID).name != name


def test_every_branch_folds_the_other_alternatives(archive, tmp_path):
    export_vault(archive, tmp_path, [BRANCHED_ID], branches="all", tz=UTC)
    text = one(tmp_path, BRANCHED_ID).read_text()
    assert "> [!quote]- Alternative 1 of 2\n> ## User" in text
    assert "> > [!quote]- Alternative 1 of 2 › 2 of 2\n> > ## Assistant" in text
    assert "> > A regenerated answer about B-trees." in text
    # The current branch reads straight through, outside any callout.
    assert "\n## User · 2023-12-06 02:40\n\nWhat is a B+ tree? (edited)" in text
    # Callouts never end on a bare blank line inside (that would cut them in Obsidian).
    inside = text.split("> [!quote]- Alternative 1 of 2\n", 1)[1].split("\n\n", 1)[0]
    assert all(line.startswith(">") for line in inside.split("\n"))


def test_tool_calls_and_reasoning_are_collapsed_callouts(archive, tmp_path):
    export_vault(archive, tmp_path, [CONTENT_ID], tz=UTC)
    text = one(tmp_path, CONTENT_ID).read_text()
    assert "> [!example]- Tool call → python\n> ```python\n> print(sum([1, 2]))\n> ```" in text
    assert "> [!note]- Reasoning\n" in text
    assert "[Example title](<https://example.org>)" in text  # a citation as a link
    assert "*image: chart.png (not stored in the archive)*" in text  # named, not linked


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_export_picks_conversations_by_filter_or_refuses_an_unclear_choice(archive_path, tmp_path):
    bing = run(
        "export",
        archive_path,
        "--provider",
        "bing",
        "--format",
        "obsidian",
        "--out",
        tmp_path / "b",
    )
    assert bing.exit_code == 0, bing.output
    assert [front(p)["id"] for p in (tmp_path / "b").glob("*.md")] == [BING_ID]
    early = run("export", archive_path, "--until", "2023", "--out", tmp_path / "m")
    assert early.exit_code == 0 and len(list((tmp_path / "m").glob("*.md"))) == 2
    for args in (
        (),
        ("--all", "--conversation", BING_ID),
        ("--conversation", BING_ID, "--provider", "bing"),
    ):
        refused = run("export", archive_path, *args, "--out", tmp_path / "x")
        assert (
            refused.exit_code == 2
            and "give --conversation ID, or --all or filters" in refused.output
        )
    unknown = run(
        "export",
        archive_path,
        "--conversation",
        "nope",
        "--format",
        "obsidian",
        "--out",
        tmp_path / "u",
    )
    assert unknown.exit_code == 2 and "no conversation with id 'nope'" in unknown.output
