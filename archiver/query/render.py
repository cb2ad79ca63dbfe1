"""Render one conversation as Markdown, JSON or HTML. Pure: rows in, text out.

Each message becomes format-neutral blocks (``archiver.query.blocks``: text, code, tool
output, quotes, images, sources) read from its raw JSON by its provider's renderer (a
``BlockReader`` the caller passes in with the rows: the engines never name a provider), or from
its searchable text when there is none; then each format lays the blocks out. HTML escapes
everything.

Archived content is hostile: every link target goes through ``archiver.query.urls`` (read as a
browser reads it; http, https, mailto and relative links only, anything else shown as text),
only local images load on their own (a remote one is a link), and the HTML page declares a
strict Content-Security-Policy, so a missed escape still runs nothing.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from archiver.loosejson import as_dict, load_json
from archiver.loosejson import as_text as _s
from archiver.query.blocks import (
    Block,
    Code,
    Image,
    Note,
    Output,
    Quote,
    Sources,
    Text,
    Thinking,
    attachment_links,
    text_blocks,
)
from archiver.query.markdown import defang_links, markdown_html
from archiver.query.thread import (
    AlternativeEnd,
    AlternativeStart,
    Branches,
    Event,
    Turn,
    thread_events,
)
from archiver.query.urls import inline_image_src, safe_href, safe_markdown_href
from archiver.timeutil import local_display

FORMATS = ("markdown", "json", "html")
HIDDEN_CLASS = "hidden-message"
_DATE_LABELS = ("Created", "Updated", "Deleted upstream")
EXTENSIONS = {"markdown": "md", "json": "json", "html": "html"}
EXPORT_FORMAT_VERSION = 1
_FOLDED_TYPES = ("thoughts", "reasoning_recap", "code", "execution_output")

# (raw message, message row, attachment links) -> blocks: a provider's ``Renderer.blocks``.
BlockReader = Callable[[Mapping[str, Any], Mapping[str, Any], Mapping[str, str]], list[Block]]


def plain_blocks(
    message: Mapping[str, Any], row: Mapping[str, Any], links: Mapping[str, str]
) -> list[Block]:
    """The reader of a provider nobody registered (any more): the searchable text."""
    return text_blocks(row)


@dataclass(frozen=True)
class ConversationRows:
    """A conversation row, all its message rows (every branch) and its attachment rows, and
    how its provider's messages read as blocks."""

    conversation: dict[str, Any]
    messages: list[dict[str, Any]]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    read_blocks: BlockReader = plain_blocks


class Section(NamedTuple):
    """One message as HTML, and whether it is hidden (behind the switch)."""

    html: str
    hidden: bool


def message_blocks(
    row: dict[str, Any], links: Mapping[str, str] | None = None, read: BlockReader = plain_blocks
) -> list[Block]:
    """What one message shows, as blocks."""
    return read(as_dict(load_json(row.get("raw_json"))), row, links or {})


def speaker(row: dict[str, Any]) -> str:
    role = _s(row.get("role")) or "unknown"
    name = _s(row.get("author_name"))
    label = {"bot": "assistant"}.get(role, role).capitalize()
    return f"{label} ({name})" if name and name != role else label


# --- Markdown ----------------------------------------------------------------------------------


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _md_link(label: str, url: str) -> str:
    href = safe_markdown_href(url)
    label = re.sub(r"([\[\]\\])", r"\\\1", label)
    if href is None:
        return f"{label} ({url})"
    return f"[{label}](<{href.replace('>', '%3E').replace('<', '%3C')}>)"


def _md_block(block: Block) -> str:
    if isinstance(block, Text):
        return defang_links(block.text)
    if isinstance(block, Code):
        fence = _fence(block.text)
        return f"{fence}{block.language}\n{block.text}\n{fence}"
    if isinstance(block, Output):
        fence = _fence(block.text)
        return f"{block.label}:\n\n{fence}\n{block.text}\n{fence}"
    if isinstance(block, Quote):
        quoted = "\n".join("> " + line for line in block.text.splitlines() or [""])
        cite = ""
        if block.title or block.url:
            title = block.title or block.url
            cite = "\n>\n> — " + (_md_link(title, block.url) if block.url else title)
        return quoted + cite
    if isinstance(block, Image):
        href = safe_markdown_href(block.href)
        if href is None:
            return f"[{block.label}: {' '.join(block.href.split())}]"
        # Only a local image is shown inline; a remote one would load on its own.
        bang = "!" if "image" in block.label and inline_image_src(href) else ""
        return f"{bang}[{block.label}](<{href.replace('>', '%3E').replace('<', '%3C')}>)"
    if isinstance(block, Thinking):
        quoted = "\n".join("> " + line for line in block.text.splitlines() or [""])
        return f"_{block.label}:_\n\n{quoted}"
    if isinstance(block, Sources):
        return "Sources:\n" + "\n".join(f"- {_md_link(t, u)}" for t, u in block.items)
    return "_" + " ".join(block.text.split()) + "_"


def _heading_meta(row: dict[str, Any]) -> str:
    """Who spoke, with which model, when (Markdown: the model code-formatted)."""
    bits = [speaker(row)]
    if row.get("model_slug"):
        bits.append(f"`{row['model_slug']}`")
    if row.get("create_time"):
        bits.append(str(row["create_time"]))
    if row.get("deleted_upstream_at"):
        bits.append("deleted upstream")
    return " · ".join(bits)


def _title(conv: dict[str, Any]) -> str:
    return _s(conv.get("title")) or "Untitled conversation"


def _meta_lines(conv: dict[str, Any], branches: Branches) -> list[tuple[str, str]]:
    lines = [("Conversation", str(conv.get("id"))), ("Provider", _s(conv.get("provider")))]
    for label, key in (("Created", "create_time"), ("Updated", "update_time")):
        if conv.get(key):
            lines.append((label, str(conv[key])))
    if conv.get("deleted_upstream_at"):
        lines.append(("Deleted upstream", str(conv["deleted_upstream_at"])))
    shown = "current branch" if branches == "current" else "every branch (edits, regenerations)"
    lines.append(("Shows", shown))
    return lines


def _alternative_label(start: AlternativeStart) -> str:
    label = "Alternative " + " › ".join(f"{i} of {n}" for i, n in start.path)
    return label + (" (current branch)" if start.current else "")


def render_markdown(doc: ConversationRows, branches: Branches = "current") -> str:
    conv = doc.conversation
    links = attachment_links(doc.attachments)
    out = [f"# {_title(conv)}", ""]
    out += [f"- {label}: {value}" for label, value in _meta_lines(conv, branches)]
    for event in thread_events(doc.messages, conv.get("current_node"), branches):
        if isinstance(event, AlternativeStart):
            out += ["", "---", "", f"## {_alternative_label(event)}"]
        elif isinstance(event, Turn):
            out += ["", f"### {_heading_meta(event.message)}", ""]
            blocks = message_blocks(event.message, links, doc.read_blocks)
            out.append("\n\n".join(_md_block(b) for b in blocks) if blocks else "_(empty)_")
    return "\n".join(out).rstrip() + "\n"


# --- JSON --------------------------------------------------------------------------------------

_HIDDEN_CONVERSATION_KEYS = ("raw_json", "content_hash", "flattener_version")
_MESSAGE_KEYS = (
    "message_id",
    "parent_id",
    "role",
    "author_name",
    "recipient",
    "channel",
    "content_type",
    "model_slug",
    "status",
    "create_time",
    "on_current_branch",
    "deleted_upstream_at",
    "text",
)


def render_json(doc: ConversationRows, branches: Branches = "current") -> str:
    """The conversation and its messages in reading order, each with its raw upstream JSON.
    With every branch, ``alternative`` is the path of (index, of) choices leading to it."""
    conv = doc.conversation
    conversation = {k: v for k, v in conv.items() if k not in _HIDDEN_CONVERSATION_KEYS}
    conversation["raw"] = load_json(conv.get("raw_json"))
    by_node: dict[str, list[dict[str, Any]]] = {}
    for row in doc.attachments:
        by_node.setdefault(str(row.get("message_node_id")), []).append(
            {k: v for k, v in row.items() if k not in ("conversation_id", "message_node_id")}
        )
    messages = []
    path: list[list[int]] = []
    for event in thread_events(doc.messages, conv.get("current_node"), branches):
        if isinstance(event, AlternativeStart):
            path = [list(pair) for pair in event.path]
        elif isinstance(event, AlternativeEnd):
            path = path[: event.level - 1]
        else:
            row = event.message
            item: dict[str, Any] = {"node_id": row.get("id")}
            item.update({k: row.get(k) for k in _MESSAGE_KEYS})
            if branches == "all":
                item["alternative"] = [list(p) for p in path]
            item["attachments"] = by_node.get(str(row.get("id")), [])
            item["raw"] = load_json(row.get("raw_json"))
            messages.append(item)
    document = {
        "export_format": EXPORT_FORMAT_VERSION,
        "branches": branches,
        "conversation": conversation,
        "messages": messages,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# --- HTML --------------------------------------------------------------------------------------

_CSS = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem; }
.message { border-top: 1px solid #ddd; padding: .5rem 0; }
.message h3 { font-size: .9rem; color: #555; margin: .5rem 0; }
.role-user h3 { color: #1a4d8f; }
.text p { margin: .4rem 0; }
code { background: #f3f3f3; padding: 0 .2rem; }
pre code { background: none; padding: 0; }
figure { margin: .5rem 0; }
figure img { max-width: 100%; height: auto; }
details.fold { border-left-color: #cb9; }
.branch { font-size: .85rem; color: #555; margin-left: .5rem; }
.branch a { text-decoration: none; padding: 0 .3rem; }
pre { background: #f5f5f5; padding: .75rem; overflow-x: auto; }
blockquote { border-left: 3px solid #ccc; margin: .5rem 0; padding-left: .75rem; color: #444; }
details { border-left: 3px solid #9ab; padding-left: .75rem; margin: .75rem 0; }
summary { font-weight: 600; cursor: pointer; }
.note { font-style: italic; color: #666; }
time { white-space: nowrap; }
#show-hidden:not(:checked) ~ .hidden-message, #show-hidden:not(:checked) ~ * .hidden-message { display: none; }
.hidden-message { opacity: .65; }
"""

# The page's one inline stylesheet, allowed by its hash rather than by 'unsafe-inline'.
STYLE_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode() + "'"


def content_security_policy(*, script_src: str = "'none'", frame_ancestors: bool = True) -> str:
    """The strict policy of every page showing archived content: no script but ``script_src``
    (no inline script, nothing remote), no plugin, no remote image, style only our own, forms
    only to ourselves. ``frame-ancestors`` is ignored in a ``<meta>`` policy (browsers say so
    in the console), so the export leaves it out."""
    directives = [
        "default-src 'none'",
        f"script-src {script_src}",
        f"style-src 'self' {STYLE_HASH}",
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'self'",
    ]
    if frame_ancestors:
        directives.append("frame-ancestors 'none'")
    return "; ".join(directives)


EXPORT_CSP = content_security_policy(frame_ancestors=False)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _html_link(label: str, url: str) -> str:
    href = safe_href(url)
    if href is None:
        return f"{_e(label)} ({_e(url)})"
    return f'<a href="{_e(href)}">{_e(label)}</a>'


def _html_block(block: Block, inline: Container[str] = ()) -> str:
    """One block as HTML. An image is shown (``<img>``) only when its target is one of
    ``inline`` (the archive's own files, resolved by the caller) or a raster ``data:`` image;
    anything else is a link to click, or text when it is not a safe link."""
    if isinstance(block, Text):
        return f'<div class="text markdown" dir="auto">{markdown_html(block.text)}</div>'
    if isinstance(block, Code):
        lang = f' class="language-{_e(block.language)}"' if block.language else ""
        return f"<pre><code{lang}>{_e(block.text)}</code></pre>"
    if isinstance(block, Output):
        return f'<p class="note">{_e(block.label)}:</p><pre><samp>{_e(block.text)}</samp></pre>'
    if isinstance(block, Quote):
        cite = ""
        if block.title or block.url:
            title = block.title or block.url
            cite = "<footer>— " + (_html_link(title, block.url) if block.url else _e(title))
            cite += "</footer>"
        return f'<blockquote><div class="text" dir="auto">{_e(block.text)}</div>{cite}</blockquote>'
    if isinstance(block, Image):
        src = inline_image_src(block.href) if "image" in block.label else None
        if src is not None and (src in inline or src.startswith("data:")):
            img = f'<img src="{_e(src)}" alt="{_e(block.label)}" loading="lazy">'
            href = safe_href(src)  # a data: image is shown, never a link
            return (
                f'<figure><a href="{_e(href)}">{img}</a></figure>'
                if href
                else f"<figure>{img}</figure>"
            )
        return f"<p>{_html_link(f'[{block.label}]', block.href)}</p>"
    if isinstance(block, Thinking):
        return (
            f'<details class="fold"><summary>{_e(block.label)}</summary>'
            f'<div class="text">{_e(block.text)}</div></details>'
        )
    if isinstance(block, Sources):
        items = "".join(f"<li>{_html_link(t, u)}</li>" for t, u in block.items)
        return f'<p class="note">Sources:</p><ul>{items}</ul>'
    return f'<p class="note" dir="auto">{_e(block.text)}</p>'


def time_html(value: Any) -> str:
    """An archived timestamp shown local and readable (this machine's zone, to the minute),
    the exact value kept in ``datetime`` and ``title`` (a hover shows it)."""
    exact = _s(value)
    shown = local_display(exact)
    if shown is None:
        return _e(value)
    return f'<time datetime="{_e(exact)}" title="{_e(exact)}">{_e(shown)}</time>'


def _heading_html(row: dict[str, Any]) -> str:
    """``_heading_meta`` as HTML: the same parts, the time a ``<time>``."""
    bits = [_e(speaker(row))]
    if row.get("model_slug"):
        bits.append(_e(row["model_slug"]))
    if row.get("create_time"):
        bits.append(time_html(row["create_time"]))
    if row.get("deleted_upstream_at"):
        bits.append("deleted upstream")
    return " · ".join(bits)


def meta_html(lines: list[tuple[str, Any]]) -> str:
    """A ``<dl>`` of (label, value) pairs; dates as ``time_html``."""
    items = "".join(
        f"<dt>{_e(k)}</dt><dd>{time_html(v) if k in _DATE_LABELS else _e(v)}</dd>"
        for k, v in lines
        if v
    )
    return f"<dl>{items}</dl>"


def is_hidden(row: dict[str, Any], blocks: list[Block]) -> bool:
    """Hidden upstream (a system or context message), or showing nothing at all (an empty
    system message, shown as ``[text]`` otherwise): the pages hide it behind a switch, as the
    chat app hides it."""
    if row.get("is_hidden"):
        return True
    placeholder = f"[{_s(row.get('content_type'))}]"
    for block in blocks:
        if isinstance(block, Note) and block.text == placeholder:
            continue
        if isinstance(block, Text | Code | Output) and not block.text.strip():
            continue
        return False
    return True


def hidden_switch(count: int) -> str:
    """The switch that shows hidden messages: a checkbox that must come before them, as a
    sibling of theirs or of what holds them (the stylesheet hides them unless it is on)."""
    if not count:
        return ""
    noun = "message" if count == 1 else "messages"
    return (
        '<input type="checkbox" id="show-hidden">'
        f'<label for="show-hidden" class="note"> Show {count} hidden or empty {noun}</label>'
    )


def render_html(doc: ConversationRows, branches: Branches = "current") -> str:
    conv = doc.conversation
    links = attachment_links(doc.attachments)
    title = _title(conv)
    out = []
    hidden = 0
    events = thread_events(doc.messages, conv.get("current_node"), branches, include_hidden=True)
    for event in events:
        if isinstance(event, AlternativeStart):
            opened = " open" if event.current else ""
            out.append(f"<details{opened}><summary>{_e(_alternative_label(event))}</summary>")
        elif isinstance(event, AlternativeEnd):
            out.append("</details>")
        else:
            section = message_html(event.message, links, read=doc.read_blocks)
            hidden += section.hidden
            out.append(section.html)
    head = [f'<h1 dir="auto">{_e(title)}</h1>', meta_html(_meta_lines(conv, branches))]
    return page_html(title, "\n".join([*head, hidden_switch(hidden), *out]), csp=EXPORT_CSP)


def fold_label(row: dict[str, Any]) -> str | None:
    """Why a message is folded away (tool calls, tool output, reasoning), or None."""
    kind = _s(row.get("content_type"))
    role = _s(row.get("role"))
    recipient = _s(row.get("recipient"))
    if kind in ("thoughts", "reasoning_recap"):
        return "Reasoning"
    if role == "tool":
        name = _s(row.get("author_name"))
        return f"Tool output ({name})" if name else "Tool output"
    if recipient and recipient != "all":
        return f"Tool call → {recipient}"
    if kind in _FOLDED_TYPES:
        return "Tool call"
    return None


def message_html(
    row: dict[str, Any],
    links: Mapping[str, str],
    *,
    controls: str = "",
    read: BlockReader = plain_blocks,
    inline: Container[str] | None = None,
) -> Section:
    """One message as a ``<section>``: the export's and the viewer's one renderer. Markdown
    and code rendered, images inline, tool calls and reasoning folded in ``<details>``; a
    hidden or empty message is marked so (``hidden_switch`` shows it).
    ``controls`` (already HTML) goes into the heading: the viewer's branch switcher.
    ``inline``: the targets an ``<img>`` may load (default: every file ``links`` resolves)."""
    role = re.sub(r"[^a-z]", "", _s(row.get("role")).lower()) or "unknown"
    blocks = message_blocks(row, links, read)
    shown = set(links.values()) if inline is None else inline
    body = "".join(_html_block(b, shown) for b in blocks) or '<p class="note">(empty)</p>'
    hidden = is_hidden(row, blocks)
    classes = f"message role-{role}" + (f" {HIDDEN_CLASS}" if hidden else "")
    fold = fold_label(row)
    if fold is not None:
        body = f'<details class="fold"><summary>{_e(fold)}</summary>{body}</details>'
    return Section(
        f'<section class="{classes}" id="{_e(row.get("id"))}">'
        f"<h3>{_heading_html(row)}{controls}</h3>{body}</section>",
        hidden,
    )


def page_html(title: str, body: str, *, head: str = "", csp: str | None = None) -> str:
    """A whole page around ``body`` with the export's stylesheet (``head``: extra tags).
    ``csp``: a Content-Security-Policy declared in the page itself, first thing in its head
    (the export's; the viewer sends its own as a header)."""
    policy = f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">' if csp else ""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">{policy}'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style>{head}</head><body>\n"
        f"{body}\n</body></html>\n"
    )


RENDERERS: dict[str, Callable[[ConversationRows, Branches], str]] = {
    "markdown": render_markdown,
    "json": render_json,
    "html": render_html,
}


def render(doc: ConversationRows, fmt: str, branches: Branches = "current") -> str:
    return RENDERERS[fmt](doc, branches)


__all__ = [
    "EXPORT_CSP",
    "EXTENSIONS",
    "FORMATS",
    "STYLE_HASH",
    "Block",
    "ConversationRows",
    "Event",
    "message_blocks",
    "message_html",
    "page_html",
    "render",
    "render_html",
    "render_json",
    "render_markdown",
    "safe_href",
]
