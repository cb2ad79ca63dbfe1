"""A conversation built to attack its renderer, exported: no live javascript:/vbscript:/data:
link, no event handler, no remote image, and the HTML carries a strict CSP."""

from __future__ import annotations

import html
import re

import pytest

from archiver.providers.registry import block_reader
from archiver.query.export import load_conversation
from archiver.query.render import render_html, render_markdown
from archiver.query.urls import safe_markdown_href
from tests.support.hostile import (
    REMOTE_IMAGE,
    audit_html,
    browser_scheme,
    save_hostile,
)


@pytest.fixture
def hostile(archive):
    return load_conversation(archive, save_hostile(archive), block_reader)


def test_the_audit_sees_what_it_looks_for() -> None:
    # The audit is only worth something if it catches the attacks it is used against.
    page = (
        '<a href="&#1;javascript:alert(1)">x</a><a href="java&#10;script:x">y</a>'
        '<img src="https://t.example/p.png"><img src=x onerror="alert(1)">'
        '<a href="data:text/html,x">z</a><script>alert(1)</script>'
    )
    findings = audit_html(page)
    assert len(findings) == 7, findings


def test_html_export_of_a_hostile_conversation_has_nothing_live(hostile) -> None:
    page = render_html(hostile, "all")
    assert audit_html(page) == []
    # The attacks are still there to read, as text.
    assert "alert(1)" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    # The remote image is a link to click, not an image loaded on opening the page.
    assert f'href="{REMOTE_IMAGE}"' in page and f'src="{REMOTE_IMAGE}"' not in page


def test_html_export_carries_a_strict_csp(hostile) -> None:
    page = render_html(hostile)
    match = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert match, "the export declares its CSP"
    content = html.unescape(match[1])  # as the browser reads the attribute
    policy = dict(
        ([*d.split(" ", 1), ""])[:2] for d in (x.strip() for x in content.split(";")) if d
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'none'"
    assert policy["img-src"].split() == ["'self'", "data:"]
    # The inline stylesheet is allowed by its hash, not by 'unsafe-inline'.
    assert "'unsafe-inline'" not in content and "'sha256-" in policy["style-src"]
    # The meta tag comes before anything archived.
    assert page.index("Content-Security-Policy") < page.index("<body>")


def assert_no_live_markdown_link(text: str) -> None:
    # Every inline link and autolink a Markdown renderer would see.
    destinations = re.findall(r"(?<!\\)\]\(\s*<?([^)>\n]*)>?\s*\)", text)
    autolinks = re.findall(r"(?<!\\)<([A-Za-z][A-Za-z0-9+.-]*:[^>\s]*)>", text)
    for url in destinations + autolinks:
        assert safe_markdown_href(url) is not None, url
        assert browser_scheme(url) in (None, "http", "https", "mailto"), url
    assert "alert(1)" in text and "msgbox(1)" in text  # what was refused is there as text


def test_markdown_export_writes_no_live_link(hostile) -> None:
    text = render_markdown(hostile, "all")
    assert_no_live_markdown_link(text)
    assert f"[output image](<{REMOTE_IMAGE}>)" in text  # a safe link stays one, not an image


def test_an_obsidian_note_has_no_live_link(archive, tmp_path) -> None:
    from archiver.query.vault import export_vault

    cid = save_hostile(archive)
    export_vault(archive, tmp_path, conversation_ids=[cid], branches="all", readers=block_reader)
    (note,) = tmp_path.rglob("*.md")
    assert_no_live_markdown_link(note.read_text(encoding="utf-8"))
