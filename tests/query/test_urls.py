"""Link targets from archived content are judged as a browser reads them (WHATWG URL parsing):
the attack spellings of issue #26 are refused, ordinary links pass unchanged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver.query.render import safe_href as render_safe_href
from archiver.query.urls import (
    inline_image_src,
    is_local,
    normalise,
    safe_href,
    safe_markdown_href,
    scheme_of,
)
from tests.support.hostile import ATTACK_URLS, MARKDOWN_ATTACK_URLS, browser_scheme


@pytest.mark.parametrize("url", ATTACK_URLS)
def test_attack_spellings_are_not_links(url: str) -> None:
    assert browser_scheme(url) in ("javascript", "vbscript", "data")  # live to a browser
    assert safe_href(url) is None
    assert render_safe_href(url) is None  # the renderer's name for it is the same check
    assert inline_image_src(url) is None


@pytest.mark.parametrize("url", MARKDOWN_ATTACK_URLS)
def test_markdown_decoding_spellings_are_not_markdown_links(url: str) -> None:
    assert safe_markdown_href(url) is None


@pytest.mark.parametrize(
    ("url", "href"),
    [
        ("https://example.org/a?b=1&c=2#d", "https://example.org/a?b=1&c=2#d"),
        ("HTTP://EXAMPLE.ORG", "HTTP://EXAMPLE.ORG"),
        ("  https://example.org/\n", "https://example.org/"),
        ("mailto:someone@example.org", "mailto:someone@example.org"),
        ("/file/c1/0", "/file/c1/0"),
        ("files/chart.png", "files/chart.png"),
        ("?node=n-1", "?node=n-1"),
        ("#section", "#section"),
        ("\\\\evil.example/x", "//evil.example/x"),  # what the browser makes of it
    ],
)
def test_ordinary_links_pass(url: str, href: str) -> None:
    assert safe_href(url) == href
    assert safe_markdown_href(url) == href


@pytest.mark.parametrize(
    "url",
    [
        "file-service://file-abc",  # an archive pointer: no browser can open it
        "sediment://file_1",
        "ms-msdt:/id PCWDiagnostic",  # an unknown scheme starts an external program
        "search-ms:query=x",
        "file:///etc/passwd",
        "java\u200bscript:alert(1)",  # not live today, refused anyway (loose reading)
        "",
        "\x01\x02",
    ],
)
def test_other_schemes_are_refused(url: str) -> None:
    assert safe_href(url) is None


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("/file/c/0", True),
        ("files/a.png", True),
        ("//tracker.example/p.png", False),
        ("/\\tracker.example/p.png", False),
        ("\\\\tracker.example/p.png", False),
        ("https://tracker.example/p.png", False),
    ],
)
def test_only_same_origin_paths_are_local(url: str, local: bool) -> None:
    href = safe_href(url)
    assert href is not None and is_local(href) is local
    assert (inline_image_src(url) is not None) is local


def test_raster_data_images_may_be_inline_but_never_links() -> None:
    png = "data:image/png;base64,iVBORw0KGgo="
    assert inline_image_src(png) == png
    assert safe_href(png) is None
    assert inline_image_src("data:image/svg+xml,<svg/>") is None
    assert inline_image_src("data:text/html,<b>") is None


# --- properties ------------------------------------------------------------------------------

_NOISE = st.sampled_from(["\t", "\n", "\r"])
_LEAD = st.text(alphabet=[chr(c) for c in range(0x21)], max_size=4)
_BAD = st.sampled_from(["javascript", "vbscript", "data"])


@st.composite
def disguised(draw: st.DrawFn) -> str:
    """A forbidden scheme as a browser would still read it: C0 controls and spaces before it,
    tabs and newlines anywhere inside, any letter case, then anything at all."""
    scheme = draw(_BAD)
    letters = [c.upper() if draw(st.booleans()) else c for c in scheme + ":"]
    out = []
    for letter in letters:
        out.append(letter)
        out.extend(draw(st.lists(_NOISE, max_size=2)))
    return draw(_LEAD) + "".join(out) + draw(st.text(max_size=20))


@given(disguised())
def test_no_disguise_of_a_forbidden_scheme_passes(url: str) -> None:
    assert browser_scheme(url) in ("javascript", "vbscript", "data")
    assert safe_href(url) is None
    assert safe_markdown_href(url) is None
    assert inline_image_src(url) is None


@given(st.text(max_size=60))
def test_whatever_passes_is_what_the_browser_reads_and_is_allowed(url: str) -> None:
    href = safe_href(url)
    if href is None:
        return
    # The written target is already in the browser's form: nothing left for it to strip.
    assert href == normalise(href)
    assert not any(c in href for c in "\t\n\r")
    assert browser_scheme(href) in (None, "http", "https", "mailto")
    assert scheme_of(href) == browser_scheme(href)
    assert safe_href(href) == href  # stable
