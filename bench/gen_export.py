"""A seeded generator of ChatGPT data exports in the real format (docs/protocol/chatgpt.md,
docs/protocol/chatgpt-export.md).

Conversations have realistic ids, timestamps and mappings: a hidden system root child, user and
assistant turns, branches (edited prompts, regenerated answers), tool calls and the content types
seen in real exports in roughly their real shares. The default (2,000 conversations) makes about
144,000 nodes and about 100 MB of JSON.

    python bench/gen_export.py OUT.zip [--conversations 2000] [--seed 7] [--layout zip|json|split]
"""

from __future__ import annotations

import argparse
import json
import random
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_WORDS_TEXT = (
    "the a of to and in is it for on that with as this be are by or from at an not we can have "
    "data model query index table tree branch node message export archive search python sqlite "
    "function value result error stream memory file size time update create delete list page "
    "token limit rate request response server client cache batch import backup branch answer "
    "question example because however therefore simple complex quickly carefully usually never "
    "always every each some many few more less better worse first last next previous again"
)
WORDS = _WORDS_TEXT.split()
MODELS = ("gpt-4o", "gpt-4", "text-davinci-002-render-sha", "o3", "gpt-4o-mini", "gpt-5")
TOOLS = ("python", "browser", "dalle.text2im", "web.run", "file_search", "bio")


class Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def text(self, low: int, high: int) -> str:
        words = self.rng.choices(WORDS, k=self.rng.randint(low, high))
        sentences, out = [], []
        for i, word in enumerate(words):
            out.append(word)
            if i % 14 == 13:
                sentences.append(" ".join(out).capitalize() + ".")
                out = []
        if out:
            sentences.append(" ".join(out).capitalize() + ".")
        return " ".join(sentences)

    def file_id(self) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "file-" + "".join(self.rng.choices(alphabet, k=24))

    # -- messages ---------------------------------------------------------------------------

    def message(
        self,
        role: str,
        content: dict[str, Any],
        t: float,
        *,
        name: str | None = None,
        recipient: str = "all",
        model: str | None = None,
        hidden: bool = False,
        extra_metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        metadata: dict[str, Any] = {"timestamp_": "absolute", "message_type": None}
        if role == "user":
            metadata.update(
                {
                    "request_id": f"{self.rng.getrandbits(64):016x}-IAD",
                    "message_source": None,
                }
            )
        elif role in ("assistant", "tool"):
            metadata.update(
                {
                    "finish_details": {"type": "stop", "stop_tokens": [200002]},
                    "is_complete": True,
                    "citations": [],
                    "content_references": [],
                    "model_slug": model,
                    "request_id": f"{self.rng.getrandbits(64):016x}-IAD",
                }
            )
        if hidden:
            metadata["is_visually_hidden_from_conversation"] = True
        if extra_metadata:
            metadata.update(extra_metadata)
        message: dict[str, Any] = {
            "id": self.uid(),
            "author": {"role": role, "name": name, "metadata": {}},
            "create_time": None if role == "system" else round(t, 6),
            "update_time": None,
            "content": content,
            "status": "finished_successfully",
            "end_turn": True if role == "assistant" else None,
            "weight": 0.0 if hidden else 1.0,
            "metadata": metadata,
            "recipient": recipient,
            "channel": None,
        }
        if self.rng.random() < 0.03:  # real exports sometimes lack these
            del message["weight"]
            message["create_time"] = None
        return message

    def user_content(self) -> dict[str, Any]:
        if self.rng.random() < 0.04:
            pointer = self.rng.choice(("file-service://", "sediment://")) + self.file_id()
            return {
                "content_type": "multimodal_text",
                "parts": [
                    {
                        "content_type": "image_asset_pointer",
                        "asset_pointer": pointer,
                        "size_bytes": self.rng.randint(20_000, 900_000),
                        "width": 1024,
                        "height": 768,
                        "fovea": None,
                        "metadata": None,
                    },
                    self.text(5, 30),
                ],
            }
        return {"content_type": "text", "parts": [self.text(3, 22)]}

    def assistant_content(self) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.05:
            return {
                "content_type": "code",
                "language": "python",
                "response_format_name": None,
                "text": "\n".join(f"x{i} = {i} * 2  # {self.text(2, 6)}" for i in range(6)),
            }
        if roll < 0.08:
            return {
                "content_type": "thoughts",
                "thoughts": [
                    {
                        "summary": self.text(2, 6),
                        "content": self.text(10, 40),
                        "chunks": [],
                        "finished": True,
                    }
                ],
                "source_analysis_msg_id": self.uid(),
            }
        if roll < 0.10:
            return {"content_type": "reasoning_recap", "content": "Thought for 12s"}
        return {"content_type": "text", "parts": [self.text(5, 36)]}

    def tool_content(self, tool: str) -> dict[str, Any]:
        if tool == "browser":
            return {
                "content_type": "tether_quote",
                "url": f"https://example.com/{self.rng.randint(1, 10**6)}",
                "domain": "example.com",
                "title": self.text(3, 8),
                "text": self.text(20, 60),
                "tether_id": None,
            }
        if tool == "python":
            return {"content_type": "execution_output", "text": self.text(5, 30)}
        if tool == "dalle.text2im":
            return {
                "content_type": "multimodal_text",
                "parts": [
                    {
                        "content_type": "image_asset_pointer",
                        "asset_pointer": "file-service://" + self.file_id(),
                        "size_bytes": self.rng.randint(200_000, 900_000),
                        "width": 1024,
                        "height": 1024,
                        "metadata": {
                            "dalle": {"gen_id": self.uid()[:16], "prompt": self.text(8, 20)}
                        },
                    }
                ],
            }
        return {
            "content_type": "tether_browsing_display",
            "result": self.text(10, 60),
            "summary": None,
            "assets": None,
            "tether_id": None,
        }

    # -- conversations ----------------------------------------------------------------------

    def conversation(self, index: int, turns: int) -> dict[str, Any]:
        start = 1_680_000_000 + index * 3_600 * 7 + self.rng.random()
        t = start
        model = self.rng.choice(MODELS)
        mapping: dict[str, dict[str, Any]] = {}

        def add(parent: str | None, message: dict[str, Any] | None) -> str:
            key = self.uid() if message is None else message["id"]
            mapping[key] = {"id": key, "message": message, "parent": parent, "children": []}
            if parent is not None:
                mapping[parent]["children"].append(key)
            return key

        root = add(None, None)
        tip = add(
            root,
            self.message(
                "system", {"content_type": "text", "parts": [""]}, t, hidden=True, model=model
            ),
        )
        if self.rng.random() < 0.2:
            tip = add(
                tip,
                self.message(
                    "user",
                    {
                        "content_type": "user_editable_context",
                        "user_profile": self.text(10, 30),
                        "user_instructions": self.text(10, 40),
                    },
                    t,
                    hidden=True,
                    extra_metadata={"is_user_system_message": True},
                ),
            )
        for _ in range(turns):
            t += self.rng.uniform(5, 600)
            user = add(tip, self.message("user", self.user_content(), t))
            if self.rng.random() < 0.05:  # an edited prompt: a sibling user branch
                add(tip, self.message("user", self.user_content(), t + 30))
            node = user
            if self.rng.random() < 0.12:  # a tool call and its output
                tool = self.rng.choice(TOOLS)
                call = {"content_type": "code", "language": "unknown", "text": self.text(3, 12)}
                node = add(
                    node, self.message("assistant", call, t + 1, recipient=tool, model=model)
                )
                node = add(node, self.message("tool", self.tool_content(tool), t + 2, name=tool))
            answer = add(
                node, self.message("assistant", self.assistant_content(), t + 3, model=model)
            )
            if self.rng.random() < 0.08:  # a regenerated answer: a sibling assistant branch
                add(node, self.message("assistant", self.assistant_content(), t + 9, model=model))
            tip = answer
        return {
            "title": self.text(2, 6).rstrip("."),
            "create_time": round(start, 6),
            "update_time": round(t + 10, 6),
            "mapping": mapping,
            "moderation_results": [],
            "current_node": tip,
            "plugin_ids": None,
            "conversation_id": None,  # filled below: the export repeats the id
            "conversation_template_id": None,
            "gizmo_id": None,
            "gizmo_type": None,
            "is_archived": self.rng.random() < 0.05,
            "is_starred": None,
            "safe_urls": [],
            "blocked_urls": [],
            "default_model_slug": model,
            "conversation_origin": None,
            "voice": None,
            "async_status": None,
            "disabled_tool_ids": [],
            "is_do_not_remember": False,
            "memory_scope": "global_enabled",
            "sugar_item_id": None,
            "id": None,
        }

    def conversations(self, count: int, mean_turns: float = 30.0) -> Iterator[dict[str, Any]]:
        for index in range(count):
            # A long tail: most chats are short, a few run to hundreds of turns.
            turns = max(1, min(600, int(self.rng.expovariate(1 / mean_turns))))
            conv = self.conversation(index, turns)
            cid = self.uid()
            conv["conversation_id"] = conv["id"] = cid
            yield conv


def write_array(conversations: Iterator[dict[str, Any]], out: Any) -> None:
    """Write a JSON array one conversation at a time (memory stays flat)."""
    out.write(b"[")
    for i, conv in enumerate(conversations):
        if i:
            out.write(b",")
        out.write(json.dumps(conv, ensure_ascii=False, separators=(",", ":")).encode())
    out.write(b"]")


def generate_export(
    path: Path,
    *,
    conversations: int = 2000,
    seed: int = 7,
    layout: str = "zip",
    per_file: int = 500,
) -> Path:
    """Write an export: ``zip`` (conversations.json in a zip), ``json`` (a bare
    conversations.json) or ``split`` (a zip of conversations-NNN.json + export_manifest.json)."""
    gen = Generator(seed)
    convs = gen.conversations(conversations)
    if layout == "json":
        with open(path, "wb") as out:
            write_array(convs, out)
        return path
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("user.json", json.dumps({"id": "user-" + gen.uid()[:24], "email": "x@y.z"}))
        if layout == "zip":
            with zf.open("conversations.json", "w", force_zip64=True) as out:
                write_array(convs, out)
        else:
            names = []
            for part in range(0, conversations, per_file):
                name = f"conversations-{part // per_file:03d}.json"
                names.append(name)
                chunk = (next(convs) for _ in range(min(per_file, conversations - part)))
                with zf.open(name, "w", force_zip64=True) as out:
                    write_array(chunk, out)
            zf.writestr("export_manifest.json", json.dumps({"conversations": names}))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--layout", choices=("zip", "json", "split"), default="zip")
    args = parser.parse_args()
    generate_export(args.out, conversations=args.conversations, seed=args.seed, layout=args.layout)


if __name__ == "__main__":
    main()
