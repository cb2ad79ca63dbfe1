"""The Grok, Le Chat and DeepSeek samples and a Gemini Takeout once imported, read back the ways people read the
archive: the viewer (each provider's own rendering, branch switchers, stored images), the
gateway's read routes, full-text search and the file export."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.serve.keys import add_key
from archiver.store import open_db
from tests.providers.export_checks import run_import
from tests.providers.gemini import samples as gemini
from tests.providers.test_export_detection import SAMPLES
from tests.support.gateway import Reply, RunningGateway, http, running_gateway

BOOKS = "0c8a5b9e-1f2d-4e3a-8b7c-6d5e4f3a2b10"
GARDEN = "5c1f0e2d-8b7a-4c6d-9e5f-4a3b2c1d0e9f"
CRYSTAL = "3f6b2c1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9"
STROMATOLITE = f"c_{gemini.CHAT_A}"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("imported") / "archive.db"
    for sample in SAMPLES.values():
        assert run_import(path, sample).exit_code == 0
    takeout = tmp_path_factory.mktemp("takeout")
    for name, data in gemini.takeout_members("json").items():
        (takeout / name).parent.mkdir(parents=True, exist_ok=True)
        (takeout / name).write_bytes(data)
    assert run_import(path, takeout).exit_code == 0
    return path


@pytest.fixture(scope="module")
def key(archive: Path) -> str:
    return add_key(open_db(archive), "reader")


@pytest.fixture(scope="module")
def gateway(archive: Path):
    with running_gateway(archive, None) as running:
        yield running


def get(gw: RunningGateway, path: str, key: str | None = None) -> Reply:
    return http("GET", gw.base_url + path, key=key)


def sections(page: str) -> list[str]:
    return re.findall(r'<section class="message [^"]*" id="([^"]+)"', page)


def test_the_list_filters_by_each_provider(gateway: RunningGateway) -> None:
    for provider, title in (
        ("grok", "Books about rivers"),
        ("lechat", "Which vegetables grow well in shade?"),
        ("deepseek", "Lisbon weekend"),
    ):
        page = get(gateway, f"/?provider={provider}").text
        assert title in page, provider
    assert "Lisbon weekend" not in get(gateway, "/?provider=grok").text


def test_grok_shows_its_thinking_and_the_branch_named_current(gateway: RunningGateway) -> None:
    page = get(gateway, f"/c/{BOOKS}").text
    r = "a1f0c3d4-0000-4000-8000-00000000000"
    assert sections(page) == [f"{r}1", f"{r}2", f"{r}4", f"{r}5"]
    assert '<details class="fold"><summary>Thinking</summary>' in page
    assert "Rush writes about water." in page
    assert "grok:render" not in page  # citation tags are not shown raw
    assert re.findall(r'data-branch="([^"]+)"', page) == ["1/2"]
    # The shelf photo, an asset with no name, is linked; sniffed as a PNG, it is served.
    (link,) = re.findall(r'<a href="(/file/[^"]+)">\[file\]</a>', page)
    reply = get(gateway, link)
    assert reply.status == 200 and reply.headers["Content-Type"] == "image/png"
    other = get(gateway, f"/c/{BOOKS}?node={r}3").text
    assert sections(other) == [f"{r}1", f"{r}3"]


def test_lechat_shows_reasoning_and_its_stored_image(gateway: RunningGateway) -> None:
    page = get(gateway, f"/c/{GARDEN}").text
    assert len(sections(page)) == 4
    assert "Leafy greens tolerate it." in page and "<details" in page
    images = re.findall(r'<img [^>]*src="(/file/[^"]+)"', page)
    assert len(images) == 1
    reply = get(gateway, images[0])
    assert reply.status == 200 and reply.headers["Content-Type"] == "image/png"
    assert reply.body.startswith(b"\x89PNG")


def test_deepseek_shows_the_newest_branch_and_its_reasoning(gateway: RunningGateway) -> None:
    page = get(gateway, f"/c/{CRYSTAL}").text
    assert sections(page) == ["1", "3"]
    assert "<summary>Thinking (2 s)</summary>" in page
    assert re.findall(r'data-branch="([^"]+)"', page) == ["2/2"]


def test_the_read_routes_serve_them(gateway: RunningGateway, key: str) -> None:
    listed = get(gateway, "/conversations?provider=deepseek", key).json()
    assert {c["id"] for c in listed} == {
        CRYSTAL,
        "8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d",
        "0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a",
    }
    thread = get(gateway, f"/conversations/{CRYSTAL}/messages", key).json()
    assert [m["message"] for m in thread] == [
        "How much does a 20 ppm crystal drift per day?",
        "Up to 1.728 s a day, about 52 s a month.",
    ]
    every = get(gateway, f"/conversations/{BOOKS}/messages?branches=all", key).json()
    assert len(every) == 5


def test_search_finds_them(archive: Path) -> None:
    result = CliRunner().invoke(cli, ["search", str(archive), "Belém OR chard OR Heller"])
    assert result.exit_code == 0, result.output
    for provider in ("deepseek", "lechat", "grok"):
        assert provider in result.output


def test_the_html_export_folds_thinking_and_escapes_text(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["export", str(archive), "--format", "html", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--conversation", CRYSTAL, "--conversation", BOOKS])
    assert result.exit_code == 0, result.output
    crystal, books = (
        next(p.read_text() for p in out.iterdir() if ident in p.name) for ident in (CRYSTAL, BOOKS)
    )
    assert "<summary>Thinking (2 s)</summary>" in crystal
    assert "Up to 1.728 s a day" in crystal
    assert "About <strong>1.7 seconds</strong>" not in crystal  # off the current branch
    assert "print(&quot;field guide&quot;)" in books  # an artifact, as escaped code
    assert "grok:render" not in books


def test_the_mcp_tools_read_them(archive: Path) -> None:
    from archiver.mcp.server import call_tool
    from archiver.query.connect import open_readonly

    conn = open_readonly(archive)
    try:
        found = call_tool(conn, "search", {"query": "Belém", "provider": "deepseek"})
        assert not found.is_error, found.content
        assert {h["conversation_id"] for h in found.structured_content["hits"]} == {
            "8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d"
        }
        thread = call_tool(conn, "get_conversation", {"id": BOOKS})
        assert not thread.is_error, thread.content
        assert [m["text"] for m in thread.structured_content["messages"]] == [
            "Recommend a book about rivers",
            "Try *Rising* by Elizabeth Rush.",
            "Here is my shelf, what is missing?",
            'Your shelf lacks a field guide.\n\nprint("field guide")',
        ]
        listed = call_tool(conn, "list_conversations", {"provider": "lechat"})
        assert not listed.is_error, listed.content
        assert len(listed.structured_content["conversations"]) == 2
    finally:
        conn.close()


def test_gemini_reads_back_in_the_viewer_the_routes_search_and_mcp(
    gateway: RunningGateway, key: str, archive: Path
) -> None:
    from archiver.mcp.server import call_tool
    from archiver.query.connect import open_readonly

    assert "stromatolite" in get(gateway, "/?provider=gemini").text
    page = get(gateway, f"/c/{STROMATOLITE}").text
    assert "A layered rock built by cyanobacteria." in page
    assert "Shark Bay." in page and "Lake Thetis" not in page  # the chosen draft only
    thread = get(gateway, f"/conversations/{STROMATOLITE}/messages", key).json()
    assert [m["message"] for m in thread][:2] == ["What is a stromatolite?", thread[1]["message"]]
    assert "cyanobacteria" in thread[1]["message"]
    found = CliRunner().invoke(cli, ["search", str(archive), "stromatolite"])
    assert found.exit_code == 0 and "gemini" in found.output, found.output
    conn = open_readonly(archive)
    try:
        hits = call_tool(conn, "search", {"query": "stromatolite", "provider": "gemini"})
        assert not hits.is_error, hits.content
        assert {h["conversation_id"] for h in hits.structured_content["hits"]} == {STROMATOLITE}
        every = call_tool(conn, "get_conversation", {"id": STROMATOLITE, "branch": "all"})
        current = call_tool(conn, "get_conversation", {"id": STROMATOLITE})
        assert len(every.structured_content["messages"]) > len(
            current.structured_content["messages"]
        )  # the other draft is on another branch
    finally:
        conn.close()
