"""A ChatGPT data export with one conversation of each era from 2023 to 2026, in the shapes
docs/protocol/chatgpt.md and chatgpt-export.md describe, and the files its messages point at
in each layout the exports used:

- the three API fixtures (tests/fixtures/chatgpt: edits and regenerations, every content type,
  a broken tree), late 2023;
- 2023-03, text-davinci-002-render-sha: plain text, an edited prompt;
- 2023-06, GPT-4 with browsing: tether_quote and metadata.citations;
- 2024-02, GPT-4o: an uploaded photo (``file-<id>-<name>`` at the root of the zip), a PDF in
  metadata.attachments, a DALL·E image (``dalle-generations/``) answered by a tool;
- 2024-09, o1-preview: code, its output, a regenerated answer;
- 2025-05, o3: thoughts, a reasoning recap, 2025 content_references citations, a sediment://
  upload under ``user-<id>/``, a voice message (``<conversation>/audio/``);
- 2026-01, GPT-5, slimmed 2026 entries (no ``children``, keys sorted, ASCII-escaped): an image
  named by conversation_asset_file_names.json, and one file the export left out.

Each visible message's text holds a token (``tok-<era>-<n>``) so tests can follow the order.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

from tests.support.helpers import load_fixture


def png(seed: int) -> bytes:
    """A real 2x2 PNG whose pixels depend on ``seed`` (distinct bytes per file)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + bytes([seed % 256, (seed * 7) % 256, 90] * 2) for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# member name in the zip -> bytes
FILES: dict[str, bytes] = {
    "file-Ph0to2024aa-beach photo.png": png(1),
    "file-Rep0rt2024bb-quarterly report.pdf": b"%PDF-1.4\n% a small report\n%%EOF\n",
    "dalle-generations/file-DaLLe2024cc-1f2e3d4c-aaaa-bbbb-cccc-0123456789ab.webp": b"RIFF\x10\x00\x00\x00WEBPVP8 fake dalle",
    "user-Xy12ab/file_00000000abcd2025-6f1c2d3e-aaaa-bbbb-cccc-0123456789ab.png": png(2),
    "e2025/audio/file_00000000voice2025-voice.wav": b"RIFF\x24\x00\x00\x00WAVEfmt fake voice",
    "e2026/renamed-in-2026.png": png(3),
}
ASSET_NAMES = {"file-NoPrefix2026": "e2026/renamed-in-2026.png"}
MISSING_POINTER = "sediment://file_00000000gone2026"  # pointed at, not in the export


class Tree:
    """One conversation's mapping, built node by node (root → hidden system → turns)."""

    def __init__(self, cid: str, start: float):
        self.cid = cid
        self.t = start
        self.mapping: dict[str, Any] = {
            "root": {"id": "root", "message": None, "parent": None, "children": []}
        }
        self.last = self.add(
            "root",
            "system",
            {"content_type": "text", "parts": [""]},
            metadata={"is_visually_hidden_from_conversation": True},
            at=None,
        )

    def add(
        self,
        parent: str,
        role: str,
        content: dict[str, Any],
        *,
        name: str | None = None,
        model: str | None = None,
        recipient: str = "all",
        metadata: dict[str, Any] | None = None,
        at: float | None = 0.0,
        node: str | None = None,
    ) -> str:
        node = node or f"{self.cid}-n{len(self.mapping)}"
        meta = dict(metadata or {})
        if model:
            meta["model_slug"] = model
        if at is not None:
            self.t += 37.25
        self.mapping[node] = {
            "id": node,
            "parent": parent,
            "children": [],
            "message": {
                "id": f"m-{node}",
                "author": {"role": role, "name": name, "metadata": {}},
                "create_time": self.t if at is not None else None,
                "update_time": None,
                "content": content,
                "status": "finished_successfully",
                "end_turn": role == "assistant" or None,
                "weight": 1.0,
                "metadata": meta,
                "recipient": recipient,
                "channel": None,
            },
        }
        self.mapping[parent]["children"].append(node)
        return node

    def say(self, parent: str, role: str, text: str, **kwargs: Any) -> str:
        return self.add(parent, role, {"content_type": "text", "parts": [text]}, **kwargs)

    def conversation(self, title: str, current: str, model: str) -> dict[str, Any]:
        return {
            "id": self.cid,
            "conversation_id": self.cid,
            "title": title,
            "create_time": self.mapping[self.mapping["root"]["children"][0]]["message"][
                "create_time"
            ]
            or self.t - 1000,
            "update_time": self.t + 5,
            "current_node": current,
            "is_archived": False,
            "default_model_slug": model,
            "moderation_results": [],
            "safe_urls": [],
            "mapping": self.mapping,
        }


def _image_part(pointer: str, size: int) -> dict[str, Any]:
    return {
        "content_type": "image_asset_pointer",
        "asset_pointer": pointer,
        "size_bytes": size,
        "width": 2,
        "height": 2,
    }


def era_2023_text() -> dict[str, Any]:
    tree = Tree("e2023a", 1_678_000_000.5)  # 2023-03-05
    first = tree.say(tree.last, "user", "tok-2023a-1 How do I reverse a list in Python?")
    tree.say(first, "assistant", "tok-2023a-x Use reversed().", model="text-davinci-002-render-sha")
    edited = tree.say(tree.last, "user", "tok-2023a-2 How do I reverse a list in place?")
    answer = tree.say(
        edited,
        "assistant",
        "tok-2023a-3 Call `lst.reverse()`.",
        model="text-davinci-002-render-sha",
    )
    return tree.conversation("Reversing lists", answer, "text-davinci-002-render-sha")


def era_2023_browsing() -> dict[str, Any]:
    tree = Tree("e2023b", 1_686_000_000.0)  # 2023-06-05
    ask = tree.say(tree.last, "user", "tok-2023b-1 What is the tallest building?")
    call = tree.add(
        ask,
        "assistant",
        {"content_type": "code", "language": "unknown", "text": "search('tallest building')"},
        model="gpt-4",
        recipient="browser",
    )
    quote = tree.add(
        call,
        "tool",
        {
            "content_type": "tether_quote",
            "url": "https://en.wikipedia.org/wiki/Burj_Khalifa",
            "domain": "en.wikipedia.org",
            "title": "Burj Khalifa",
            "text": "tok-2023b-2 The Burj Khalifa is 828 m tall.",
        },
        name="browser",
    )
    answer = tree.say(
        quote,
        "assistant",
        "tok-2023b-3 The Burj Khalifa, at 828 m.",
        model="gpt-4",
        metadata={
            "citations": [
                {
                    "start_ix": 0,
                    "end_ix": 10,
                    "metadata": {
                        "title": "Burj Khalifa",
                        "url": "https://en.wikipedia.org/wiki/Burj_Khalifa",
                    },
                },
                {
                    "start_ix": 11,
                    "end_ix": 12,
                    "metadata": {"title": "bad", "url": "javascript:alert(1)"},
                },
            ]
        },
    )
    return tree.conversation("Tallest building", answer, "gpt-4")


def era_2024_files() -> dict[str, Any]:
    tree = Tree("e2024a", 1_707_000_000.0)  # 2024-02-03
    upload = tree.add(
        tree.last,
        "user",
        {
            "content_type": "multimodal_text",
            "parts": [
                _image_part(
                    "file-service://file-Ph0to2024aa",
                    len(FILES["file-Ph0to2024aa-beach photo.png"]),
                ),
                "tok-2024a-1 What beach is this? The report is attached.",
            ],
        },
        metadata={
            "attachments": [
                {"id": "file-Ph0to2024aa", "name": "beach photo.png", "mimeType": "image/png"},
                {
                    "id": "file-Rep0rt2024bb",
                    "name": "quarterly report.pdf",
                    "mime_type": "application/pdf",
                },
            ]
        },
    )
    reply = tree.say(
        upload, "assistant", "tok-2024a-2 It looks like Bondi. Let me draw it.", model="gpt-4o"
    )
    prompt = tree.add(
        reply,
        "assistant",
        {"content_type": "code", "language": "json", "text": '{"prompt": "tok-2024a-3 a beach"}'},
        model="gpt-4o",
        recipient="dalle.text2im",
    )
    image = tree.add(
        prompt,
        "tool",
        {
            "content_type": "multimodal_text",
            "parts": [_image_part("file-service://file-DaLLe2024cc", 30)],
        },
        name="dalle.text2im",
    )
    done = tree.say(image, "assistant", "tok-2024a-4 Here is your beach.", model="gpt-4o")
    return tree.conversation("Beach photo", done, "gpt-4o")


def era_2024_code() -> dict[str, Any]:
    tree = Tree("e2024b", 1_726_000_000.0)  # 2024-09-10
    ask = tree.say(tree.last, "user", "tok-2024b-1 Sum 1 to 100.")
    code = tree.add(
        ask,
        "assistant",
        {
            "content_type": "code",
            "language": "python",
            "text": "print(sum(range(101)))  # tok-2024b-2",
        },
        model="o1-preview",
        recipient="python",
    )
    output = tree.add(
        code,
        "tool",
        {"content_type": "execution_output", "text": "5050 tok-2024b-3"},
        name="python",
    )
    tree.say(output, "assistant", "tok-2024b-x It is 5050 (first try).", model="o1-preview")
    second = tree.say(output, "assistant", "tok-2024b-4 It is **5050**.", model="o1-preview")
    return tree.conversation("Gauss sum", second, "o1-preview")


def era_2025_reasoning() -> dict[str, Any]:
    tree = Tree("e2025", 1_747_000_000.0)  # 2025-05-11
    voice = tree.add(
        tree.last,
        "user",
        {
            "content_type": "multimodal_text",
            "parts": [
                {
                    "content_type": "audio_transcription",
                    "text": "tok-2025-1 compare these two charts",
                    "direction": "in",
                },
                {
                    "content_type": "audio_asset_pointer",
                    "asset_pointer": "sediment://file_00000000voice2025",
                    "size_bytes": 30,
                },
                _image_part("sediment://file_00000000abcd2025", 70),
            ],
        },
    )
    thoughts = tree.add(
        voice,
        "assistant",
        {
            "content_type": "thoughts",
            "thoughts": [{"summary": "Reading", "content": "tok-2025-2 The left chart rises."}],
        },
        model="o3",
    )
    recap = tree.add(
        thoughts,
        "assistant",
        {"content_type": "reasoning_recap", "content": "Thought for 9s"},
        model="o3",
    )
    answer = tree.say(
        recap,
        "assistant",
        "tok-2025-3 The left one grows faster \ue200cite\ue202turn0search0\ue201.",
        model="o3",
        metadata={
            "content_references": [
                {
                    "type": "grouped_webpages",
                    "start_idx": 40,
                    "end_idx": 60,
                    "items": [{"title": "Chart basics", "url": "https://example.org/charts"}],
                }
            ]
        },
    )
    return tree.conversation("Two charts — ünïcode: [x] #tag", answer, "o3")


def era_2026_slimmed() -> dict[str, Any]:
    tree = Tree("e2026", 1_768_000_000.0)  # 2026-01-10
    ask = tree.add(
        tree.last,
        "user",
        {
            "content_type": "multimodal_text",
            "parts": [
                _image_part("file-service://file-NoPrefix2026", 70),
                _image_part(MISSING_POINTER, 10),
                "tok-2026-1 Café? Which of these is older?",
            ],
        },
    )
    answer = tree.say(ask, "assistant", "tok-2026-2 The first one.", model="gpt-5")
    conv = tree.conversation("Café photos", answer, "gpt-5")
    for node in conv["mapping"].values():
        node.pop("children", None)
        if node.get("message"):
            for key in ("status", "recipient", "weight"):
                node["message"].pop(key, None)
    return conv


def conversations() -> list[dict[str, Any]]:
    names = ("branches", "content_types", "broken_tree")
    fixtures = [load_fixture(f"chatgpt/{name}.json") for name in names]
    for name, fixture in zip(names, fixtures, strict=True):
        fixture["id"] = fixture.get("conversation_id") or f"fixture-{name}"
    return [
        era_2023_text(),
        era_2023_browsing(),
        *fixtures,
        era_2024_files(),
        era_2024_code(),
        era_2025_reasoning(),
        era_2026_slimmed(),
    ]


def write_era_export(path: Path) -> Path:
    """The export zip: conversations-000/001.json (split, with a manifest), the files, the
    asset-name map; the 2026 entries written as the 2026 exports write them."""
    convs = conversations()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("user.json", '{"id": "user-Xy12ab"}')
        zf.writestr("conversations-000.json", json.dumps(convs[:-1]))
        zf.writestr(
            "conversations-001.json", json.dumps(convs[-1:], sort_keys=True, ensure_ascii=True)
        )
        zf.writestr(
            "export_manifest.json",
            json.dumps(
                {"conversation_files": ["conversations-000.json", "conversations-001.json"]}
            ),
        )
        zf.writestr("conversation_asset_file_names.json", json.dumps(ASSET_NAMES))
        for name, data in FILES.items():
            zf.writestr(name, data)
    return path
