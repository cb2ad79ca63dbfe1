from __future__ import annotations

import json
import stat

import pytest

from archiver.errors import InputError
from archiver.providers.registry import block_reader
from archiver.query.export import export_conversations, load_conversation, safe_filename
from archiver.query.render import render_html, render_json, render_markdown

BRANCHED = "c0ffee00-0000-4000-8000-000000000001"
CONTENT = "c0ffee00-0000-4000-8000-000000000002"
BING = "51D|BingProd|ABC<1>"


def test_markdown_current_branch_only(archive):
    text = render_markdown(load_conversation(archive, BRANCHED, block_reader))
    assert text.startswith("# Edits and regenerations\n")
    assert "What is a B+ tree? (edited)" in text
    assert "Leaves hold all the keys" in text
    assert "What is a B-tree?" not in text  # the edited-away prompt
    assert "regenerated" not in text  # the other answer
    assert "Alternative" not in text
    # Root first, in the order of the branch.
    assert text.index("B+ tree") < text.index("Leaves hold")


def test_markdown_all_branches_shows_alternatives_at_forks(archive):
    text = render_markdown(load_conversation(archive, BRANCHED, block_reader), "all")
    assert "## Alternative 1 of 2\n" in text
    assert "## Alternative 2 of 2 (current branch)\n" in text
    assert "## Alternative 1 of 2 › 1 of 2\n" in text
    assert "## Alternative 1 of 2 › 2 of 2\n" in text
    # Each alternative holds its own subtree.
    first, second = text.split("## Alternative 2 of 2 (current branch)")
    assert "What is a B-tree?" in first and "regenerated" in first and "balanced" in first
    assert "B+ tree" in second and "Leaves hold" in second
    assert first.index("balanced") < first.index("regenerated")  # children order, not time


def test_the_current_path_follows_parents_not_time(archive):
    # Make the current branch's answer older than its prompt: the order must not change.
    archive.execute(
        "UPDATE messages SET create_time = '2000-01-01T00:00:00.000000Z' WHERE id = 'n-a2'"
    )
    text = render_markdown(load_conversation(archive, BRANCHED, block_reader))
    assert text.index("B+ tree") < text.index("Leaves hold")


def test_content_types_render_as_code_output_quotes_and_links(archive):
    archive.execute(
        "UPDATE attachments SET extracted_path = 'files/chart.png' "
        "WHERE asset_pointer = 'file-abc123'"
    )
    text = render_markdown(load_conversation(archive, CONTENT, block_reader))
    assert "```python\nprint(sum([1, 2]))\n```" in text
    assert "Output:\n\n```\n3\n```" in text
    assert "![image](<files/chart.png>)" in text  # the extracted file, not the pointer
    # A pointer no browser can open is shown as text, not as a link.
    assert "[audio: sediment://file_voice1]" in text
    assert "[output image: file-service://file-plot]" in text
    assert "> Quoted passage" in text and "[Example title](<https://example.org>)" in text
    assert "user_profile" not in text and "database engineer" not in text  # hidden context


def test_code_fence_outgrows_backticks_in_the_code():
    from archiver.query.render import Code, _md_block

    assert _md_block(Code("a ``` b", "md")).startswith("````md\n")


def test_bing_rows_export_linearly_with_sources(archive):
    doc = load_conversation(archive, BING, block_reader)
    for branches in ("current", "all"):
        text = render_markdown(doc, branches)
        positions = [text.index(s) for s in ("How tall", "About 330", "And the", "That is HTML")]
        assert positions == sorted(positions)
        assert "Alternative" not in text
    assert "[Tour Eiffel](<https://www.toureiffel.paris/en>)" in text


def test_json_export_round_trips_ids(archive):
    doc = load_conversation(archive, BRANCHED, block_reader)
    current = json.loads(render_json(doc))
    assert current["conversation"]["id"] == BRANCHED
    assert [m["node_id"] for m in current["messages"]] == ["n-u2", "n-a2"]
    assert current["messages"][1]["message_id"] == "m-a2-differs"
    assert current["messages"][1]["raw"]["id"] == "m-a2-differs"
    every = json.loads(render_json(doc, "all"))
    stored = {
        row[0]
        for row in archive.execute(
            "SELECT message_id FROM messages WHERE is_hidden = 0 AND raw_json IS NOT NULL AND conversation_id = ?",
            [BRANCHED],
        )
    }
    assert {m["message_id"] for m in every["messages"]} == stored
    by_node = {m["node_id"]: m["alternative"] for m in every["messages"]}
    assert by_node["n-a1b"] == [[1, 2], [2, 2]]
    assert by_node["n-a2"] == [[2, 2]]


def test_html_escapes_everything(archive):
    archive.execute(
        "UPDATE conversations SET title = '<script>alert(\"t\")</script>' WHERE id = ?", [BING]
    )
    html = render_html(load_conversation(archive, BING, block_reader), "all")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;" in html
    assert 'href="https://www.toureiffel.paris/en"' in html


def test_html_refuses_javascript_links():
    from archiver.query.render import Image, _html_block, safe_href

    assert safe_href("javascript:alert(1)") is None
    assert "href" not in _html_block(Image("javascript:alert(1)"))
    assert 'href="files/a.png"' in _html_block(Image("files/a.png"))


def test_html_alternatives_nest_in_details(archive):
    html = render_html(load_conversation(archive, BRANCHED, block_reader), "all")
    # The model in a heading is plain text in HTML (Markdown's backticks would show literally).
    assert "gpt-4o" in html and "`gpt-4o`" not in html
    assert html.count("<details") == html.count("</details>") == 4
    assert "<details open><summary>Alternative 2 of 2 (current branch)</summary>" in html


def test_export_writes_one_private_file_per_conversation(archive, tmp_path):
    out = tmp_path / "out"
    result = export_conversations(archive, out, fmt="markdown", readers=block_reader)
    names = sorted(p.name for p in result.written)
    assert len(names) == 3
    assert f"edits-and-regenerations-{BRANCHED}.md" in names
    assert any(n.startswith("eiffel-tower-51D_BingProd_ABC_1_-") for n in names)
    for path in result.written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = export_conversations(
        archive, out, conversation_ids=[BING], fmt="html", readers=block_reader
    )
    assert again.written[0].suffix == ".html"


def test_export_unknown_id_fails_before_writing(archive, tmp_path):
    with pytest.raises(InputError, match="no conversation"):
        export_conversations(archive, tmp_path / "out", conversation_ids=[BRANCHED, "nope"])
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("title", "cid", "expected"),
    [
        ("Hello, World!", "abc-123", "hello-world-abc-123.md"),
        (None, "abc", "untitled-abc.md"),
        ("Ça va? 日本", "x", "ca-va-x.md"),
        ("../../etc/passwd", "../x", "etc-passwd-_x-"),
    ],
)
def test_safe_filenames(title, cid, expected):
    name = safe_filename(title, cid, "md")
    assert name.startswith(expected)
    assert "/" not in name and not name.startswith(".")
