"""A small, safe Markdown → HTML renderer for message text (pure; no dependency).

Covers what chat answers use: fenced code, headings, lists, block quotes, paragraphs, inline
code, bold, italics and links. Everything is escaped first; links go through ``safe_href`` so
no ``javascript:`` URL survives. Anything it does not know stays visible as plain text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+#.-]*)\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBER = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\(\s*<?([^)\s>]+)>?\s*\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")


def _inline(text: str, safe_href: Callable[[str], str | None]) -> str:
    """Escape, then mark up code spans (left alone inside), links, bold and italics."""
    pieces: list[str] = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        pieces.append(_inline_plain(text[last : match.start()], safe_href))
        pieces.append(f"<code>{html.escape(match[1])}</code>")
        last = match.end()
    pieces.append(_inline_plain(text[last:], safe_href))
    return "".join(pieces)


def _inline_plain(text: str, safe_href: Callable[[str], str | None]) -> str:
    out: list[str] = []
    last = 0
    for match in _LINK.finditer(text):
        out.append(_emphasis(html.escape(text[last : match.start()])))
        href = safe_href(match[2])
        label = _emphasis(html.escape(match[1]))
        if href is None:
            out.append(f"{label} ({html.escape(match[2])})")
        else:
            out.append(f'<a href="{html.escape(href, quote=True)}">{label}</a>')
        last = match.end()
    out.append(_emphasis(html.escape(text[last:])))
    return "".join(out)


def _emphasis(escaped: str) -> str:
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return _ITALIC.sub(r"<em>\1</em>", escaped)


def markdown_html(text: str, safe_href: Callable[[str], str | None]) -> str:
    lines = text.split("\n")
    out: list[str] = []
    paragraph: list[str] = []
    i = 0

    def flush() -> None:
        if paragraph:
            out.append("<p>" + "<br>".join(_inline(p, safe_href) for p in paragraph) + "</p>")
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line.strip())
        if fence:
            flush()
            marker, language = fence[1], fence[2]
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(marker):
                body.append(lines[i])
                i += 1
            i += 1  # the closing fence (or the end of the text)
            lang = f' class="language-{html.escape(language, quote=True)}"' if language else ""
            out.append(f"<pre><code{lang}>{html.escape(chr(10).join(body))}</code></pre>")
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            level = len(heading[1])
            out.append(
                f"<h{level + 2 if level < 5 else 6}>{_inline(heading[2], safe_href)}</h{level + 2 if level < 5 else 6}>"
            )
            i += 1
            continue
        for pattern, tag in ((_BULLET, "ul"), (_NUMBER, "ol")):
            if pattern.match(line):
                flush()
                items = []
                while i < len(lines) and (item := pattern.match(lines[i])):
                    items.append(f"<li>{_inline(item[1], safe_href)}</li>")
                    i += 1
                out.append(f"<{tag}>{''.join(items)}</{tag}>")
                break
        else:
            if line.startswith(">"):
                flush()
                quoted = []
                while i < len(lines) and lines[i].startswith(">"):
                    quoted.append(lines[i][1:].removeprefix(" "))
                    i += 1
                out.append(
                    f"<blockquote>{markdown_html(chr(10).join(quoted), safe_href)}</blockquote>"
                )
            elif not line.strip():
                flush()
                i += 1
            else:
                paragraph.append(line)
                i += 1
    flush()
    return "".join(out)
