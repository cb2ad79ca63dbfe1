"""A small, safe Markdown → HTML renderer for message text (pure; no dependency).

Covers what chat answers use: fenced code, headings, lists, block quotes, paragraphs, inline
code, bold, italics and links. Everything is escaped first; links go through
``archiver.query.urls.safe_href`` (read as a browser reads a URL) so no ``javascript:`` URL
survives. Anything it does not know stays visible as plain text. Every block carries
``dir="auto"``: an Arabic or Hebrew paragraph is laid out right to left, each on its own.

``defang_links`` is the other direction: archived Markdown written out as Markdown (the
export), with every link and autolink whose target is not safe turned into plain text, so
that the renderer that later opens the file finds no live link in it either.
"""

from __future__ import annotations

import html
import re

from archiver.query.urls import safe_href, safe_markdown_href

_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+#.-]*)\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBER = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\(\s*<?([^)\s>]+)>?\s*\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")


def _inline(text: str) -> str:
    """Escape, then mark up code spans (left alone inside), links, bold and italics."""
    pieces: list[str] = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        pieces.append(_inline_plain(text[last : match.start()]))
        pieces.append(f"<code>{html.escape(match[1])}</code>")
        last = match.end()
    pieces.append(_inline_plain(text[last:]))
    return "".join(pieces)


def _inline_plain(text: str) -> str:
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


def markdown_html(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    paragraph: list[str] = []
    i = 0

    def flush() -> None:
        if paragraph:
            out.append('<p dir="auto">' + "<br>".join(_inline(p) for p in paragraph) + "</p>")
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
            tag = f"h{min(len(heading[1]) + 2, 6)}"
            out.append(f'<{tag} dir="auto">{_inline(heading[2])}</{tag}>')
            i += 1
            continue
        for pattern, tag in ((_BULLET, "ul"), (_NUMBER, "ol")):
            if pattern.match(line):
                flush()
                items = []
                while i < len(lines) and (item := pattern.match(lines[i])):
                    items.append(f'<li dir="auto">{_inline(item[1])}</li>')
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
                    f'<blockquote dir="auto">{markdown_html(chr(10).join(quoted))}</blockquote>'
                )
            elif not line.strip():
                flush()
                i += 1
            else:
                paragraph.append(line)
                i += 1
    flush()
    return "".join(out)


# --- archived Markdown written out as Markdown -------------------------------------------------

# Each opener with the backslashes before it: an odd run means it is escaped already.
_DESTINATION = re.compile(r"(\\*)\]\(\s*(<[^>\n]*>|[^)\n]*)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]\n]+\]:\s*(<[^>\n]*>|\S+)")
_TAG_OR_AUTOLINK = re.compile(
    r"(\\*)(?:<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*)>|<(?=[A-Za-z/!?]))"
)


def _defang_plain(text: str) -> str:
    """Outside code: a link or autolink to an unsafe target, and any raw HTML tag, become
    text (a backslash before the character that would open them)."""

    def link(match: re.Match[str]) -> str:
        target = match[2].removeprefix("<").removesuffix(">")
        if len(match[1]) % 2 or safe_markdown_href(target) is not None:
            return match[0]
        return match[1] + "]\\(" + match[0][len(match[1]) + 2 :]

    def tag(match: re.Match[str]) -> str:
        if len(match[1]) % 2:
            return match[0]  # escaped already
        if match[2] is not None and safe_markdown_href(match[2]) is not None:
            return match[0]  # <https://...>: a safe autolink stays one
        return match[1] + "\\" + match[0][len(match[1]) :]

    text = _DESTINATION.sub(link, text)
    return _TAG_OR_AUTOLINK.sub(tag, text)


def defang_links(text: str) -> str:
    """``text`` (archived Markdown) with no live unsafe link, autolink, link reference or raw
    HTML tag left in it; fenced code and code spans are left exactly as they are."""
    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        opening = _FENCE.match(line.strip())
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            out.append(line)
            continue
        if opening:
            fence = opening[1]
            out.append(line)
            continue
        reference = _REFERENCE.match(line)
        if reference and safe_markdown_href(reference[1].strip("<>")) is None:
            line = "\\" + line.lstrip(" ")
        pieces, last = [], 0
        for span in _CODE_SPAN.finditer(line):
            pieces += [_defang_plain(line[last : span.start()]), span[0]]
            last = span.end()
        pieces.append(_defang_plain(line[last:]))
        out.append("".join(pieces))
    return "\n".join(out)
