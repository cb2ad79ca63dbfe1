"""Archived text printed by a command never carries a terminal escape sequence (issue #26):
an OSC sequence in a title or a message would set the window title or the clipboard."""

from __future__ import annotations

import json

from click.testing import CliRunner

from archiver.cli import cli
from archiver.cli.query import highlighted
from archiver.cli.terminal import json_text, terminal_text

TITLE_OSC = "\x1b]0;pwned\x07"
CLIPBOARD_OSC = "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07"
C1_CSI = "\x9b31m"


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def poison(archive) -> None:
    archive.execute(
        "UPDATE conversations SET title = ? WHERE title = 'Edits and regenerations'",
        [f"Edits{TITLE_OSC} and regenerations"],
    )
    archive.execute(
        "UPDATE messages SET text = text || ? || ' regenerated ' || ? || char(13) || 'x' "
        "WHERE id = 'n-a1b'",
        [CLIPBOARD_OSC, C1_CSI],
    )
    archive.execute(
        "UPDATE messages SET model_slug = ? WHERE model_slug IS NOT NULL", [f"gpt{TITLE_OSC}"]
    )


def controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]


def test_search_prints_no_escape_sequence(archive) -> None:
    poison(archive)
    result = run(
        "search", archive.conn.execute("PRAGMA database_list").fetchone()[2], "regenerated"
    )
    assert result.exit_code == 0, result.output
    assert "regenerations" in result.output and "regenerated" in result.output
    assert controls(result.output) == []
    assert "]0;pwned" in result.output  # the text is still there, made inert


def test_search_json_is_exact_and_inert(archive) -> None:
    poison(archive)
    path = archive.conn.execute("PRAGMA database_list").fetchone()[2]
    result = run("search", path, "regenerated", "--json")
    assert result.exit_code == 0, result.output
    assert controls(result.output.replace("\n", "")) == []
    hits = json.loads(result.output)
    assert any(TITLE_OSC in hit["title"] for hit in hits)  # the data itself is unchanged
    assert any(C1_CSI in hit["snippet"] for hit in hits)


def test_stats_prints_no_escape_sequence(archive) -> None:
    poison(archive)
    path = archive.conn.execute("PRAGMA database_list").fetchone()[2]
    result = run("stats", path)
    assert result.exit_code == 0, result.output
    assert "pwned" in result.output and controls(result.output) == []


def test_highlights_survive_and_nothing_else_does() -> None:
    ansi = ("\x1b[1;33m", "\x1b[0m")
    snippet = f"a {ansi[0]}word{ansi[1]} {TITLE_OSC}b{C1_CSI}"
    line = highlighted(snippet, ansi)
    assert line == f"a {ansi[0]}word{ansi[1]} ]0;pwnedb31m"
    assert highlighted("**x**\x1b]0;t\x07", ("**", "**")) == "**x**]0;t"


def test_terminal_text_and_json_text() -> None:
    assert terminal_text("a\tb\nc\x00\x1b\x7f\x85\x9fd\r") == "a\tb\ncd"
    assert terminal_text("Ω é 😀") == "Ω é 😀"
    value = {"t": f"{TITLE_OSC}{C1_CSI}\x7f"}
    text = json_text(value)
    assert controls(text.replace("\n", "")) == [] and json.loads(text) == value


def test_results_on_a_terminal_go_through_a_stripping_stream() -> None:
    import csv
    import io

    from archiver.cli.terminal import TerminalStream

    sink = io.StringIO()
    writer = csv.writer(TerminalStream(sink))
    writer.writerow(["key", f"answer{TITLE_OSC}"])
    assert sink.getvalue() == "key,answer]0;pwned\n"


def test_log_lines_carry_no_control_character(capsys) -> None:
    import logging

    from archiver.cli.common import setup_logging

    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers.clear()
    try:
        setup_logging(False)
        logging.getLogger("archiver.test").warning("title %s", TITLE_OSC)
    finally:
        root.handlers[:] = saved
    err = capsys.readouterr().err
    assert "title ]0;pwned" in err and controls(err.replace("\n", "")) == []


def test_runs_prints_no_escape_sequence(archive) -> None:
    """A run's error holds upstream text (a status line, a page title): ``archiver runs`` is
    read the morning after, in a terminal."""
    archive.execute(
        "INSERT INTO runs (job, kind, started_at, finished_at, status, exit_code, error) "
        "VALUES (?, 'backup', '2026-12-01T02:00:00Z', '2026-12-01T02:01:00Z', 'failed', 1, ?)",
        [f"nightly{TITLE_OSC}.toml", f"upstream said: {CLIPBOARD_OSC}{C1_CSI}bad gateway"],
    )
    archive.conn.commit()
    result = run("runs", archive.conn.execute("PRAGMA database_list").fetchone()[2])
    assert result.exit_code == 0, result.output
    assert "bad gateway" in result.output and "nightly" in result.output
    assert controls(result.output) == []
