"""Builds one ChatGPT ``mapping`` tree, turn by turn, with the message shapes seen upstream.

Each turn kind exercises one family of content types (browsing, python, DALL·E, reasoning, ...);
``chatgpt_data`` decides which kinds and branches a conversation gets.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from archiver.fakes import data
from archiver.loosejson import Json

KINDS = (
    "text",
    "image",
    "audio",
    "dalle",
    "browse",
    "python",
    "reasoning",
    "error",
    "rare",
    "canvas",
    "memory",
    "channels",
)
COMMON_KINDS = ("text",) * 8 + ("browse", "python", "image", "reasoning", "channels")


def _audio(pointer: str, size: int) -> Json:
    return {
        "content_type": "audio_asset_pointer",
        "asset_pointer": pointer,
        "size_bytes": size,
        "format": "wav",
        "metadata": {"start": 0.0, "end": 2.5},
    }


class TreeBuilder:
    def __init__(
        self,
        rng: random.Random,
        *,
        start: float,
        end: float,
        model: str,
        split_ids: bool,
        null_times: bool,
    ) -> None:
        self.rng = rng
        self.mapping: dict[str, Json] = {}
        self.t = start
        self.end = end
        self.model = model
        self.split_ids = split_ids  # node ids differ from message ids
        self.null_times = null_times

    # -- plumbing ---------------------------------------------------------------------------

    def _time(self) -> float | None:
        self.t = min(self.end, self.t + self.rng.uniform(1, 40))
        return None if self.rng.random() < 0.04 else self.t

    def _add(self, parent: str, message: Json) -> str:
        node_id = data.rng_uuid(self.rng) if self.split_ids else message["id"]
        self.mapping[node_id] = {
            "id": node_id,
            "message": message,
            "parent": parent,
            "children": [],
        }
        self.mapping[parent]["children"].append(node_id)
        return node_id

    def _msg(self, parent: str, role: str, content: Json, **kw: Any) -> str:
        message: Json = {
            "id": data.rng_uuid(self.rng),
            "author": {"role": role, "name": kw.pop("name", None), "metadata": {}},
            "create_time": self._time(),
            "update_time": None,
            "content": content,
            "status": "finished_successfully",
            "end_turn": kw.pop("end_turn", None),
            "weight": 1.0,
            "metadata": kw.pop("metadata", {}),
            "recipient": kw.pop("recipient", "all"),
            "channel": kw.pop("channel", None),
        }
        if self.rng.random() < 0.03:  # older captures lack these keys
            del message["status"], message["weight"]
        return self._add(parent, message)

    def _meta(self, finish: str = "stop") -> Json:
        return {
            "model_slug": self.model,
            "default_model_slug": self.model,
            "finish_details": {"type": finish, "stop_tokens": [100260]},
            "is_complete": True,
            "request_id": data.rng_uuid(self.rng)[:23],
            "citations": [],
            "content_references": [],
        }

    def _text(self, parent: str, role: str, text: str, **kw: Any) -> str:
        return self._msg(parent, role, {"content_type": "text", "parts": [text]}, **kw)

    def _answer(self, parent: str, sentences: int = 3, **kw: Any) -> str:
        text = data.paragraph(self.rng, sentences)
        return self._text(parent, "assistant", text, end_turn=True, metadata=self._meta(), **kw)

    def _call(self, parent: str, recipient: str, text: str, language: str = "unknown") -> str:
        content: Json = {"content_type": "code", "language": language, "text": text}
        content["response_format_name"] = None
        meta = self._meta()
        return self._msg(
            parent, "assistant", content, recipient=recipient, end_turn=False, metadata=meta
        )

    def _tool(self, parent: str, name: str, content: Json, **kw: Any) -> str:
        return self._msg(parent, "tool", content, name=name, **kw)

    # -- fixed nodes ------------------------------------------------------------------------

    def add_root(self, variant: str) -> str:
        if variant == "client-created-root":
            node: Json = {"id": "client-created-root", "message": None, "parent": None}
        elif variant == "nulls":
            node = {"id": data.rng_uuid(self.rng), "message": None, "parent": None}
        else:  # oldest form: no message/parent keys at all
            node = {"id": data.rng_uuid(self.rng)}
        node["children"] = []
        self.mapping[node["id"]] = node
        return node["id"]

    def add_system(self, root: str) -> str:
        hidden = {"is_visually_hidden_from_conversation": True}
        node = self._text(root, "system", "", end_turn=True, metadata=hidden)
        message = self.mapping[node]["message"]
        message["weight"] = 0.0
        if self.null_times:
            message["create_time"] = None
        return node

    def add_user_context(self, parent: str) -> str:
        content = {
            "content_type": "user_editable_context",
            "user_profile": "The user provided the following information about themselves: "
            + data.sentence(self.rng),
            "user_instructions": "The user provided the additional info about how they would "
            "like you to respond: " + data.sentence(self.rng),
        }
        meta = {"is_visually_hidden_from_conversation": True, "is_user_system_message": True}
        return self._msg(parent, "user", content, metadata=meta)

    # -- turns ------------------------------------------------------------------------------

    def add_turn(self, parent: str, kind: str, *, branch: str | None, turn: int) -> str:
        """Add one user prompt and its answer chain; return the last node on the main path."""
        if branch == "edit":  # the prompt's first version stays as a side branch
            older = self._user(parent, "text")
            self._answer(older, 2)
        user = self._user(parent, kind)
        if branch == "regenerate":  # the replaced answer: a sibling of the one kept
            self._answer(user, 2)
        last = getattr(self, f"_turn_{kind}")(user)
        if branch == "continue":
            message = self.mapping[last]["message"]
            message["metadata"]["finish_details"] = {"type": "max_tokens"}
            message["end_turn"] = False
            last = self._answer(last, 2)
        return last

    def _user(self, parent: str, kind: str) -> str:
        prompt = data.sentence(self.rng).rstrip(".") + "?"
        if kind == "image":
            file_id = "file-" + data.rng_uuid(self.rng).replace("-", "")[:24]
            part = {
                "content_type": "image_asset_pointer",
                "asset_pointer": f"file-service://{file_id}",
                "size_bytes": self.rng.randint(20_000, 900_000),
                "width": 1024,
                "height": 768,
                "fovea": None,
                "metadata": None,
            }
            attachment = {"id": file_id, "name": "photo.png", "size": part["size_bytes"]}
            # Both spellings of the MIME key occur in real data.
            attachment["mimeType" if self.rng.random() < 0.5 else "mime_type"] = "image/png"
            content = {"content_type": "multimodal_text", "parts": [part, prompt]}
            return self._msg(parent, "user", content, metadata={"attachments": [attachment]})
        if kind == "audio":
            # Advanced Voice: the user's audio nests one level down (docs/protocol/chatgpt.md).
            audio = _audio("sediment://file_" + data.rng_uuid(self.rng)[:8], 48_000)
            parts: list[Json] = [
                {"content_type": "audio_transcription", "text": prompt, "direction": "in"},
                {
                    "content_type": "real_time_user_audio_video_asset_pointer",
                    "frames_asset_pointers": [],
                    "video_container_asset_pointer": None,
                    "audio_asset_pointer": audio,
                    "audio_start_timestamp": 0.0,
                },
            ]
            content = {"content_type": "multimodal_text", "parts": parts}
            return self._msg(parent, "user", content, metadata={"voice_mode_message": True})
        return self._text(parent, "user", prompt)

    def _turn_text(self, user: str) -> str:
        return self._answer(user, self.rng.randint(2, 6))

    _turn_image = _turn_text

    def _turn_audio(self, user: str) -> str:
        # The spoken answer's audio sits directly in the parts (its id follows from the
        # question's, so the generator's random sequence is the one it always was).
        answer_id = hashlib.sha256(user.encode()).hexdigest()[:8]
        parts: list[Json] = [
            {"content_type": "audio_transcription", "text": data.sentence(self.rng)},
            _audio(f"sediment://file_{answer_id}", 96_000),
        ]
        parts[0]["direction"] = "out"
        content = {"content_type": "multimodal_text", "parts": parts}
        return self._msg(user, "assistant", content, end_turn=True, metadata=self._meta())

    def _turn_dalle(self, user: str) -> str:
        call = self._text(user, "assistant", '{"prompt": "a watercolor river"}', end_turn=False)
        self.mapping[call]["message"]["recipient"] = "dalle.text2im"
        image = {
            "content_type": "image_asset_pointer",
            "asset_pointer": "file-service://file-" + data.rng_uuid(self.rng)[:12],
            "size_bytes": 310_000,
            "width": 1024,
            "height": 1024,
            "metadata": {"dalle": {"gen_id": "gen1", "prompt": "a watercolor river", "seed": 7}},
        }
        tool = self._tool(
            call, "dalle.text2im", {"content_type": "multimodal_text", "parts": [image]}
        )
        return self._answer(tool, 1)

    def _turn_browse(self, user: str) -> str:
        call = self._call(user, "browser", 'search("' + data.sentence(self.rng, 2, 4) + '")')
        display: Json = {
            "content_type": "tether_browsing_display",
            "result": "# 【0†Example page†example.com】\n" + data.sentence(self.rng),
            "summary": None,
            "assets": [],
            "tether_id": None,
        }
        shown = self._tool(call, "browser", display)
        quote = {
            "content_type": "tether_quote",
            "url": "https://example.com/page",
            "domain": "example.com",
            "title": "Example page",
            "text": data.paragraph(self.rng, 2),
            "tether_id": None,
        }
        quoted = self._tool(shown, "browser", quote)
        return self._answer(quoted, 3)

    def _turn_python(self, user: str) -> str:
        call = self._call(user, "python", "import math\nprint(math.pi)", "python")
        image = {"message_type": "image", "image_url": "file-service://file-plot", "width": 640}
        meta = {"aggregate_result": {"status": "success", "messages": [image]}}
        out = self._tool(
            call, "python", {"content_type": "execution_output", "text": "3.14159"}, metadata=meta
        )
        return self._answer(out, 2)

    def _turn_error(self, user: str) -> str:
        call = self._call(user, "python", "open('/missing')", "python")
        error = {"content_type": "system_error", "name": "tool_error", "text": "Execution failed."}
        failed = self._tool(call, "python", error)
        return self._answer(failed, 1)

    def _turn_reasoning(self, user: str) -> str:
        thought = {
            "summary": "Planning",
            "content": data.sentence(self.rng),
            "chunks": [],
            "finished": True,
        }
        content = {
            "content_type": "thoughts",
            "thoughts": [thought],
            "source_analysis_msg_id": data.rng_uuid(self.rng),
        }
        thinking = self._msg(user, "assistant", content, channel="analysis", metadata=self._meta())
        recap = {
            "content_type": "reasoning_recap",
            "content": f"Thought for {self.rng.randint(2, 60)}s",
        }
        recapped = self._msg(thinking, "assistant", recap, metadata=self._meta())
        return self._answer(recapped, 3, channel="final")

    def _turn_channels(self, user: str) -> str:
        plan = self._text(user, "assistant", data.sentence(self.rng), channel="analysis")
        call = self._call(plan, "web.run", '{"search_query": [{"q": "emulator"}]}')
        self.mapping[call]["message"]["channel"] = "commentary"
        found = self._tool(
            call, "web.run", {"content_type": "text", "parts": ["3 results"]}, channel="commentary"
        )
        return self._answer(found, 2, channel="final")

    def _turn_rare(self, user: str) -> str:
        call = self._call(user, "computer.do", '{"action": "screenshot"}')
        shot: Json = {
            "content_type": "computer_output",
            "computer_id": "c1",
            "screenshot": None,
            "state": {},
        }
        done = self._tool(call, "computer.do", shot)
        page = {
            "content_type": "sonic_webpage",
            "url": "https://example.org",
            "title": "Example",
            "text": "…",
        }
        read = self._tool(done, "web.search", page)
        # A content type no client knows yet: it must be kept whole, not dropped.
        unknown = {
            "content_type": "x_emulator_future_widget",
            "payload": {"kind": "gauge", "value": 42},
        }
        odd = self._tool(read, "myfiles_browser", unknown)
        return self._answer(odd, 1)

    def _turn_canvas(self, user: str) -> str:
        call = self._call(user, "canmore.create_textdoc", '{"name": "draft", "type": "document"}')
        made = self._tool(
            call, "canmore.create_textdoc", {"content_type": "text", "parts": ["Created."]}
        )
        return self._answer(made, 1)

    def _turn_memory(self, user: str) -> str:
        call = self._call(user, "bio", "User prefers concise answers.")
        saved = self._tool(
            call, "bio", {"content_type": "text", "parts": ["Model set context updated."]}
        )
        return self._answer(saved, 1)
