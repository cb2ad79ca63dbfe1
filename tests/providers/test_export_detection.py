"""Which export format claims what: each sample of the import-only providers is claimed by its
own format and by no other (ChatGPT's included), and an export of an unknown or mixed shape is
refused with a message naming what was found, never guessed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from archiver.importer.source import choose_format, open_files
from archiver.providers import base, registry
from tests.providers.export_checks import run_import

HERE = Path(__file__).parent
SAMPLES = {
    "grok": HERE / "grok" / "sample",
    "lechat": HERE / "lechat" / "sample",
    "deepseek": HERE / "deepseek" / "sample",
}


def formats() -> dict[str, base.ExportFormat]:
    return {p.name: p.export for p in registry.with_capability("import") if p.export}


@pytest.mark.parametrize("provider", sorted(SAMPLES))
def test_each_sample_is_claimed_by_its_own_format_only(provider: str) -> None:
    every = formats()
    with open_files(SAMPLES[provider]) as files:
        claiming = [name for name, f in every.items() if f.detect(files)]
        assert claiming == [provider]
        assert choose_format(files, list(every.values())) is every[provider]


def test_an_unknown_shape_is_refused_naming_what_was_found(tmp_path: Path) -> None:
    # Claude's export is known now (providers/claude): an export of a shape no format has.
    unknown = tmp_path / "some-export"
    unknown.mkdir()
    (unknown / "conversations.json").write_text(
        json.dumps([{"id": "u1", "title": "chat", "turns": []}])
    )
    (unknown / "users.json").write_text("[]")
    result = run_import(tmp_path / "a.db", unknown)
    assert result.exit_code == 2, result.output
    assert "not an export archiver knows: found a folder holding conversations.json" in (
        result.output
    )
    for label in ("Grok", "Le Chat", "DeepSeek", "Claude"):
        assert label in result.output  # "Known: ..." lists every format
    assert "Traceback" not in result.output


def test_two_kinds_in_one_folder_are_refused(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed"
    shutil.copytree(SAMPLES["deepseek"], mixed / "deepseek")
    shutil.copytree(SAMPLES["lechat"], mixed / "lechat")
    result = run_import(tmp_path / "a.db", mixed)
    assert result.exit_code == 2, result.output
    assert "looks like more than one kind of export" in result.output
    assert "Le Chat" in result.output and "DeepSeek" in result.output


def test_an_export_of_the_wrong_kind_inside_a_right_one_is_named_and_kept(
    tmp_path: Path,
) -> None:
    """A Le Chat export holding, under a chat's name, a file of another kind (here DeepSeek's
    conversations): the chats import, the stray file is named (exit 3) and kept whole, never
    guessed at. A JSON file of no chat's name (account data) is simply kept."""
    export = tmp_path / "lechat"
    shutil.copytree(SAMPLES["lechat"], export)
    stray = export / "chat-0f0f0f0f-0000-4000-8000-000000000000.json"
    stray.write_text('[{"id": "x", "inserted_at": "2026-01-01T00:00:00Z"}]')
    (export / "chat-empty.json").write_text("[]")
    (export / "account.json").write_text('{"plan": "free"}')
    result = run_import(tmp_path / "a.db", export)
    assert result.exit_code == 3, result.output
    assert f"{stray.name}: named like a Le Chat chat but does not hold one" in result.output
    assert "read 3, new 2" in result.output and "json_files 3" in result.output
