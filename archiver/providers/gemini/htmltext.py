"""Answer HTML (a Takeout's ``safeHtmlItem``, a page's answer cell) → searchable plain text.
Pure; the HTML itself stays in the raw JSON.

Block elements end lines, list items get a ``- ``, ``<pre>`` keeps its whitespace, an image
becomes its ``alt`` text in brackets. Entities are decoded once (the parser does it)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# The elements that stand apart from the text around them (a blank line before and after).
_BLOCKS = frozenset(
    {"p", "div", "ul", "ol", "li", "pre", "blockquote", "table", "tr", "hr", "section", "article"}
    | {f"h{level}" for level in range(1, 7)}
)
_INLINE_SPACE = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_RUNS = re.compile(r"\n{3,}")


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.pre = 0
        self.skip = 0  # inside <script>/<style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("td", "th"):
            self.parts.append(" | ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f"[{alt}]")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        if tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self.parts.append("\n\n")
        elif tag in _BLOCKS and tag != "li":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre:
            self.parts.append(data)
            return
        text = _INLINE_SPACE.sub(" ", data.replace("\n", " "))
        if not self.parts or self.parts[-1].endswith("\n"):
            text = text.lstrip(" ")  # no indent at a line's start from the source's newlines
        self.parts.append(text)


def html_to_text(html: str) -> str:
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [line.rstrip() for line in text.split("\n")]
    joined = "\n".join(line if line.strip() else "" for line in lines)
    return _BLANK_RUNS.sub("\n\n", joined).strip()


def inline_text(html: str) -> str:
    """One line of HTML (a prompt, a subtitle) as text: tags dropped, entities decoded, spaces
    kept as they are (a prompt's own newlines stay)."""
    parser = _TextParser()
    parser.pre = 1  # keep whitespace as written
    parser.feed(html)
    parser.close()
    return "".join(p for p in parser.parts if p not in ("\n\n",))


__all__ = ["html_to_text", "inline_text"]
