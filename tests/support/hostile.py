"""A conversation built to attack its renderer, and an audit of the HTML that shows it.

Every way a URL reaches a page (message text links, citations, content references, a tether
quote, code-interpreter images, asset pointers, a remote image, a prompt sent through the
gateway) carries the spellings a browser reads as ``javascript:`` although a naive check does
not: a leading C0 control, a tab or newline inside the scheme, odd case, character references
a Markdown renderer decodes. ``audit_html`` parses a page as a browser would and lists every
live ``javascript:``/``vbscript:``/``data:`` link, event handler, inline or remote script and
remote image in it.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

HOSTILE_ID = "hostile0-0000-4000-8000-000000000666"

# Each of these is a javascript:, vbscript: or data: link to a browser.
ATTACK_URLS = (
    "\u0001javascript:alert(1)",
    "\x00javascript:alert(1)",
    "\x1f\x1fjavascript:alert(1)",
    "java\nscript:alert(1)",
    "java\tscript:alert(1)",
    "jav\rascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "javascript\n:alert(1)",
    "\u0001vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "\u0008data:text/html,<script>alert(1)</script>",
    "da\tta:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:image/svg+xml,<svg onload=alert(1)>",
)
# Not live in a browser, but live once a Markdown renderer decodes them.
MARKDOWN_ATTACK_URLS = (
    "javascript&#58;alert(1)",
    "&#106;avascript:alert(1)",
    "javascript\\:alert(1)",
    "javascript&colon;alert(1)",
)
REMOTE_IMAGE = "https://tracker.example/pixel.png"
EVENT_HANDLER_TEXT = '<img src=x onerror=alert(1)> "><svg onload=alert(2)>'


def _node(
    node_id: str,
    parent: str | None,
    child: str | None,
    role: str,
    content: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    message = {"id": node_id, "author": {"role": role}, "content": content, "create_time": 1.7e9}
    message.update(extra)
    return {
        "id": node_id,
        "parent": parent,
        "children": [child] if child else [],
        "message": message,
    }


def hostile_conversation() -> dict[str, Any]:
    """A ChatGPT conversation (the export's shape) whose every URL field is an attack."""
    urls = ATTACK_URLS + MARKDOWN_ATTACK_URLS
    links = "\n".join(f"[link {i}]({u})" for i, u in enumerate(urls))
    autolinks = " ".join(f"<{u}>" for u in urls)
    chain: list[tuple[str, str, Any, dict[str, Any]]] = [
        (
            "u1",
            "user",
            {"content_type": "text", "parts": [f"{links}\n\n{autolinks}\n\n{EVENT_HANDLER_TEXT}"]},
            {},
        ),
        (
            "a1",
            "assistant",
            {"content_type": "text", "parts": ["Sources below."]},
            {
                "metadata": {
                    "citations": [
                        {"metadata": {"url": u, "title": f"cite {i}"}} for i, u in enumerate(urls)
                    ],
                    "content_references": [
                        {"url": u, "title": f"ref {i}"} for i, u in enumerate(urls)
                    ],
                }
            },
        ),
        (
            "q1",
            "tool",
            {"content_type": "tether_quote", "url": ATTACK_URLS[0], "title": "quoted", "text": "q"},
            {},
        ),
        (
            "o1",
            "tool",
            {"content_type": "execution_output", "text": "plot"},
            {
                "metadata": {
                    "aggregate_result": {
                        "messages": [{"image_url": u} for u in (*urls, REMOTE_IMAGE)]
                    }
                }
            },
        ),
        (
            "m1",
            "user",
            {
                "content_type": "multimodal_text",
                "parts": [
                    *({"content_type": "image_asset_pointer", "asset_pointer": u} for u in urls),
                    {"content_type": "image_asset_pointer", "asset_pointer": REMOTE_IMAGE},
                    "pointers",
                ],
            },
            {},
        ),
    ]
    mapping: dict[str, Any] = {
        "root": {"id": "root", "parent": None, "children": ["u1"], "message": None}
    }
    parent = "root"
    for index, (node_id, role, content, extra) in enumerate(chain):
        child = chain[index + 1][0] if index + 1 < len(chain) else None
        mapping[node_id] = _node(node_id, parent, child, role, content, **extra)
        parent = node_id
    return {
        "id": HOSTILE_ID,
        "conversation_id": HOSTILE_ID,
        "title": '<script>alert("title")</script>',
        "create_time": 1.7e9,
        "update_time": 1.7e9,
        "current_node": chain[-1][0],
        "mapping": mapping,
    }


def save_hostile(db: Any) -> str:
    from archiver.providers.chatgpt.flatten import flatten_conversation
    from archiver.store.save import save_conversation

    save_conversation(db, flatten_conversation(json.loads(json.dumps(hostile_conversation()))))
    return HOSTILE_ID


# --- the audit ---------------------------------------------------------------------------------

_URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "srcset",
    "poster",
    "xlink:href",
    "background",
}
_WHATWG_ENDS = "".join(chr(c) for c in range(0x21))


def browser_scheme(value: str) -> str | None:
    """The scheme a browser reads in an attribute value (an independent reading: the value as
    HTML decoded it, C0 controls and spaces stripped at the ends, tabs and newlines removed)."""
    url = value.strip(_WHATWG_ENDS).replace("\t", "").replace("\n", "").replace("\r", "")
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", url)
    return match[1].lower() if match else None


class _Audit(HTMLParser):
    def __init__(self, own_scripts: tuple[str, ...]) -> None:
        super().__init__(convert_charrefs=True)
        self.own_scripts = own_scripts
        self.findings: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        for name, value in values.items():
            if name.startswith("on"):
                self.findings.append(f"event handler {name} on <{tag}>")
            if name in _URL_ATTRIBUTES or (name == "style" and "url(" in value):
                scheme = browser_scheme(value)
                if scheme in ("javascript", "vbscript"):
                    self.findings.append(f"{scheme}: in <{tag} {name}>")
                if scheme == "data" and not (tag == "img" and name == "src"):
                    self.findings.append(f"data: in <{tag} {name}>")
        if tag == "img":
            src = values.get("src", "")
            scheme = browser_scheme(src)
            remote = scheme not in (None, "data") or src.strip(_WHATWG_ENDS).replace(
                "\\", "/"
            ).startswith("//")
            if remote:
                self.findings.append(f"remote image {src!r}")
            if scheme == "data" and not re.match(
                r"data:image/(png|jpeg|gif|webp|avif|bmp)[;,]", src.strip(_WHATWG_ENDS), re.I
            ):
                self.findings.append(f"non-raster data image {src[:40]!r}")
        if tag in ("iframe", "object", "embed", "base", "frame"):
            self.findings.append(f"<{tag}>")
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            self.findings.append("<meta refresh>")
        if tag == "script":
            if values.get("src") not in self.own_scripts:
                self.findings.append(f"script {values.get('src')!r}")
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.findings.append("inline script")


def audit_html(page: str, *, own_scripts: tuple[str, ...] = ()) -> list[str]:
    """What in ``page`` could run, leak or navigate somewhere hostile: [] when nothing."""
    audit = _Audit(own_scripts)
    audit.feed(page)
    audit.close()
    return audit.findings
