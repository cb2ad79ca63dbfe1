"""How the HTML export (and the viewer, which shares its renderer) lays messages out (issue
#27): right-to-left text gets its own direction, hidden and empty messages are hidden behind a
switch, and times are local and readable with the exact value kept."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

import pytest

from archiver.providers.registry import block_reader
from archiver.query.export import load_conversation
from archiver.query.render import render_html
from archiver.timeutil import local_display

BRANCHED = "c0ffee00-0000-4000-8000-000000000001"
ARABIC = "مرحبا بالعالم، كيف حالك؟"
HEBREW = "שלום עולם, מה שלומך?"


class Blocks(HTMLParser):
    """Every block element of message text, with its ``dir``; and every section's classes."""

    BLOCKS = ("p", "li", "h3", "h4", "h5", "h6", "blockquote")

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[tuple[str, str | None]] = []
        self.sections: dict[str, str] = {}
        self._in_text = 0
        self._depth: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "section":
            self.sections[str(values.get("id"))] = str(values.get("class"))
        if tag == "div" and "text" in str(values.get("class", "")).split():
            self._in_text += 1
            self._depth.append("text")
            self.blocks.append(("div", values.get("dir")))
        elif tag == "div":
            self._depth.append("div")
        if self._in_text and tag in self.BLOCKS:
            self.blocks.append((tag, values.get("dir")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._depth and self._depth.pop() == "text":
            self._in_text -= 1


def parse(page: str) -> Blocks:
    parser = Blocks()
    parser.feed(page)
    return parser


@pytest.fixture
def local_zone(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # +05:30 all year: no daylight saving
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_every_text_block_gets_its_own_direction(archive) -> None:
    archive.execute(
        "UPDATE messages SET text = ? WHERE id = 'n-a2'",
        [f"# {ARABIC}\n\n{ARABIC}\n\nAn English paragraph.\n\n- {HEBREW}\n- item\n\n> {HEBREW}"],
    )
    archive.execute(
        "UPDATE messages SET raw_json = json_set(raw_json, '$.content.parts[0]', "
        "(SELECT text FROM messages WHERE id = 'n-a2')) WHERE id = 'n-a2'"
    )
    page = render_html(load_conversation(archive, BRANCHED, block_reader))
    blocks = parse(page).blocks
    assert len(blocks) >= 8, blocks
    assert [b for b in blocks if b[1] != "auto"] == []  # each decides on its own text
    assert ARABIC in page and HEBREW in page
    assert re.search(r'<h1 dir="auto">', page)  # a title may be right-to-left too


def test_hidden_and_empty_messages_are_hidden_behind_a_switch(archive) -> None:
    # An empty system message that upstream did not flag hidden (shown as "[text]" before).
    archive.execute(
        "UPDATE messages SET is_hidden = 0, raw_json = json_remove(raw_json, '$.metadata') "
        "WHERE id = 'n-sys'"
    )
    archive.execute("UPDATE messages SET is_hidden = 1 WHERE id = 'n-u2'")  # a hidden prompt
    page = render_html(load_conversation(archive, BRANCHED, block_reader))
    sections = parse(page).sections
    assert "hidden-message" in sections["n-sys"].split()
    assert "hidden-message" in sections["n-u2"].split()
    assert "hidden-message" not in sections["n-a2"].split()
    # The switch: a checkbox before every message, and the rule that hides unless it is on.
    switch = re.search(r'<input type="checkbox" id="show-hidden"[^>]*>', page)
    assert switch and page.index(switch[0]) < page.index('id="n-sys"')
    assert re.search(r'<label for="show-hidden"[^>]*>[^<]*2 hidden', page)
    css = re.search(r"<style>(.*?)</style>", page, re.S)
    assert css and "#show-hidden:not(:checked) ~ .hidden-message" in css[1]
    assert "#show-hidden:not(:checked) ~ * .hidden-message" in css[1]


def test_no_switch_when_nothing_is_hidden(archive) -> None:
    archive.execute("DELETE FROM messages WHERE id = 'n-sys'")
    page = render_html(load_conversation(archive, BRANCHED, block_reader))
    assert 'id="show-hidden"' not in page and "hidden-message" not in parse(page).sections.values()


def test_times_are_local_and_readable_with_the_exact_value_kept(archive, local_zone) -> None:
    exact = "2023-12-06T10:00:03.123456Z"
    archive.execute("UPDATE messages SET create_time = ? WHERE id = 'n-a2'", [exact])
    page = render_html(load_conversation(archive, BRANCHED, block_reader))
    assert f'<time datetime="{exact}" title="{exact}">2023-12-06 15:30 IST</time>' in page
    assert ".123456" not in re.sub(r'"[^"]*"', "", page)  # only inside attributes
    # The conversation's own dates too.
    assert page.count("<time ") >= 3


def test_local_display() -> None:
    assert local_display("not a time") is None
    assert local_display("") is None
    shown = local_display("2024-02-29T23:59:59.999999Z")
    assert shown is not None and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d \S+", shown)
