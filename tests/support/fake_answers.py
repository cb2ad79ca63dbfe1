"""An in-test ChatGPT ``POST conversation`` for pytest-httpserver: answers every prompt with
a classic or v1 stream, keeps the conversations it created, and injects scripted faults."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections import Counter
from typing import Any

from werkzeug import Request, Response

TOKEN = "batch-test-token"


HALF_EMOJI = "[half-emoji]"  # in a prompt: the answer holds a lone surrogate, as cut servers send


def answer_for(prompt: str) -> str:
    if HALF_EMOJI in prompt:
        return f"Answer to «{prompt}» \ud83d"
    return f"Answer to «{prompt}» ✓"


def _sse(payload: Any, event: str | None = None) -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    # A lone surrogate goes on the wire as its JSON escape (it has no UTF-8 form).
    text = re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m[0]):04x}", text)
    return (f"event: {event}\n" if event else "").encode() + f"data: {text}\n\n".encode()


def message(
    role: str,
    text: str,
    *,
    ident: str | None = None,
    status: str = "finished_successfully",
    finish: str | None = None,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if finish:
        metadata["finish_details"] = {"type": finish}
    return {
        "id": ident or str(uuid.uuid4()),
        "author": {"role": role, "name": None, "metadata": {}},
        "create_time": 1700000000.0,
        "content": {"content_type": "text", "parts": [text]},
        "status": status,
        "metadata": metadata,
        "recipient": "all",
    }


def classic_body(cid: str, user: dict[str, Any], answer: dict[str, Any]) -> bytes:
    frames = [_sse({"message": user, "conversation_id": cid, "error": None})]
    text = answer["content"]["parts"][0]
    partial = {
        **answer,
        "status": "in_progress",
        "content": {"content_type": "text", "parts": [text[:3]]},
    }
    frames.append(_sse({"message": partial, "conversation_id": cid, "error": None}))
    frames.append(_sse({"message": answer, "conversation_id": cid, "error": None}))
    frames.append(_sse("[DONE]"))
    return b"".join(frames)


def v1_body(cid: str, user: dict[str, Any], answer: dict[str, Any]) -> bytes:
    text = answer["content"]["parts"][0]
    skeleton = {
        **answer,
        "status": "in_progress",
        "content": {"content_type": "text", "parts": [""]},
        "metadata": {},
    }
    frames = [
        _sse('"v1"', "delta_encoding"),
        _sse(
            {"p": "", "o": "add", "v": {"message": user, "conversation_id": cid}, "c": 0}, "delta"
        ),
        _sse(
            {"p": "", "o": "add", "v": {"message": skeleton, "conversation_id": cid}, "c": 1},
            "delta",
        ),
        _sse({"p": "/message/content/parts/0", "o": "append", "v": text[:2]}, "delta"),
        _sse({"v": text[2:]}, "delta"),
        _sse(
            {
                "o": "patch",
                "v": [
                    {"p": "/message/status", "o": "replace", "v": answer["status"]},
                    {"p": "/message/metadata", "o": "append", "v": answer["metadata"]},
                ],
            },
            "delta",
        ),
        _sse({"type": "message_stream_complete", "conversation_id": cid}),
        _sse("[DONE]"),
    ]
    return b"".join(frames)


class FakeAnswers:
    """``faults`` is consumed one per request: None (answer), an int status (with
    ``Retry-After: 0`` for 429), "broken" (a stream cut before its end, the answer never
    stored), "lost" (stored, then a 504 before any byte) or "cut" (the answer stored, as upstream does, then the stream cut: only a
    look-up finds it), "throttled-long" (a 429 with ``Retry-After: 99999``) or "throttled-bare" (a
    429 without Retry-After). ``GET conversation/{id}`` and ``GET conversations`` serve what was
    stored.

    ``sentinel``: "plain" serves ``sentinel/chat-requirements`` (single-use tokens and a proof
    of work at ``difficulty``, checked on every send); "none" has no sentinel (404)."""

    def __init__(self, *, encoding: str = "auto", sentinel: str = "plain") -> None:
        self.encoding = encoding
        self.sentinel = sentinel
        self.difficulty = "0fffff"
        self.issued: dict[str, tuple[str, bool]] = {}  # token -> (seed, used)
        self.sentinel_requests = 0
        self.faults: list[Any] = []
        self.fail_after: int | None = None  # answer this many, then 500 forever
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []  # every POST body, in arrival order
        self.answered: Counter[str] = Counter()  # complete answers per prompt
        self.conversations: dict[str, list[str]] = {}  # cid → message ids in order
        self.patched: list[str] = []
        self.stored: dict[str, list[dict[str, Any]]] = {}  # cid → messages, in order
        self.updated: dict[str, float] = {}
        self.lookups: list[str] = []  # paths of every GET

    def install(self, httpserver: Any) -> str:
        httpserver.expect_request(
            "/backend-api/sentinel/chat-requirements", method="POST"
        ).respond_with_handler(self.requirements)
        httpserver.expect_request(
            "/backend-api/sentinel/chat-requirements/prepare", method="POST"
        ).respond_with_json({"detail": "Not Found"}, status=404)
        httpserver.expect_request("/backend-api/conversation", method="POST").respond_with_handler(
            self.post
        )
        httpserver.expect_request(
            "/backend-api/f/conversation", method="POST"
        ).respond_with_handler(self.post)
        httpserver.expect_request(
            __import__("re").compile(r"/backend-api/conversation/[^/]+"), method="PATCH"
        ).respond_with_handler(self.patch)
        httpserver.expect_request(
            __import__("re").compile(r"/backend-api/conversation/[^/]+"), method="GET"
        ).respond_with_handler(self.get_conversation)
        httpserver.expect_request("/backend-api/conversations", method="GET").respond_with_handler(
            self.list_conversations
        )
        return httpserver.url_for("/backend-api")

    def requirements(self, request: Request) -> Response:
        if self.sentinel == "none":
            return Response(json.dumps({"detail": "Not Found"}), status=404)
        with self.lock:
            self.sentinel_requests += 1
            token = f"req-{uuid.uuid4()}"
            seed = str(uuid.uuid4())
            self.issued[token] = (seed, False)
        body = {
            "token": token,
            "proofofwork": {"required": True, "seed": seed, "difficulty": self.difficulty},
            "turnstile": {"required": False},
        }
        return Response(json.dumps(body), content_type="application/json")

    def _sentinel_refused(self, request: Request) -> bool:
        from archiver.providers.chatgpt.fake.sentinel import proof_ok

        if self.sentinel == "none" or not request.path.endswith("/f/conversation"):
            return False
        token = request.headers.get("openai-sentinel-chat-requirements-token", "")
        with self.lock:
            seed, used = self.issued.get(token, ("", True))
            if token in self.issued:
                self.issued[token] = (seed, True)
        proof = request.headers.get("openai-sentinel-proof-token", "")
        return used or not proof_ok(proof, seed, self.difficulty, "both")

    def get_conversation(self, request: Request) -> Response:
        cid = request.path.rsplit("/", 1)[1]
        with self.lock:
            self.lookups.append(request.path)
            messages = list(self.stored.get(cid, []))
        if cid not in self.conversations:
            detail = {"detail": f"Can't load conversation {cid}"}
            return Response(json.dumps(detail), status=404, content_type="application/json")
        mapping: dict[str, Any] = {"root": {"id": "root", "message": None, "parent": None}}
        parent = "root"
        for m in messages:
            mapping[parent].setdefault("children", []).append(m["id"])
            mapping[m["id"]] = {"id": m["id"], "message": m, "parent": parent, "children": []}
            parent = m["id"]
        body = {"title": "Stored chat", "mapping": mapping, "current_node": parent}
        return Response(json.dumps(body), content_type="application/json")

    def list_conversations(self, request: Request) -> Response:
        with self.lock:
            self.lookups.append(request.path)
            items = [
                {"id": cid, "title": "Stored chat", "update_time": updated}
                for cid, updated in sorted(self.updated.items(), key=lambda kv: -kv[1])
            ]
        body = {"items": items, "total": len(items), "limit": 10, "offset": 0}
        return Response(json.dumps(body), content_type="application/json")

    def patch(self, request: Request) -> Response:
        self.patched.append(request.path.rsplit("/", 1)[1])
        return Response(json.dumps({"success": True}), content_type="application/json")

    def post(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return Response(
                json.dumps({"detail": "bad token"}), status=401, content_type="application/json"
            )
        if self._sentinel_refused(request):
            detail = {"detail": "Unusual activity has been detected from your device."}
            return Response(json.dumps(detail), status=403, content_type="application/json")
        body = json.loads(request.get_data())
        with self.lock:
            self.requests.append(body)
            fault = self.faults.pop(0) if self.faults else None
            if (
                fault is None
                and self.fail_after is not None
                and sum(self.answered.values()) >= self.fail_after
            ):
                fault = 500
        if fault == "throttled-bare":  # a 429 that does not say when to come back
            return Response(
                json.dumps({"detail": "Too many requests"}),
                status=429,
                content_type="application/json",
            )
        if fault == "throttled-long":  # a 429 asking for more than a day's rest
            return Response(
                json.dumps({"detail": "Too many requests"}),
                status=429,
                headers={"Retry-After": "99999"},
                content_type="application/json",
            )
        if isinstance(fault, int):
            headers = {"Retry-After": "0"} if fault == 429 else {}
            return Response(
                json.dumps({"detail": "scripted"}),
                status=fault,
                headers=headers,
                content_type="application/json",
            )
        if body.get("action") == "continue":
            prompt = "(continued)"
            user = None
        else:
            sent = body["messages"][0]
            prompt = sent["content"]["parts"][0]
            user = message("user", prompt, ident=sent["id"])
        with self.lock:
            cid = body.get("conversation_id") or str(uuid.uuid4())
            chain = self.conversations.setdefault(cid, [])
            if body.get("conversation_id") and chain and body["parent_message_id"] != chain[-1]:
                return Response(
                    json.dumps({"detail": "wrong parent"}),
                    status=400,
                    content_type="application/json",
                )
        long = "[long]" in prompt
        answer = message(
            "assistant",
            "First half" if long else (" second half" if user is None else answer_for(prompt)),
            finish="max_tokens" if long else "stop",
            status="finished_partial_completion" if long else "finished_successfully",
        )
        user = user or message("user", "")
        encoding = self.encoding
        if encoding == "auto":
            encoding = "v1" if "v1" in (body.get("supported_encodings") or []) else "classic"
        stream = (v1_body if encoding == "v1" else classic_body)(cid, user, answer)
        if fault == "broken":
            stream = stream[: len(stream) * 2 // 3]
        else:
            with self.lock:
                if body.get("action") != "continue":
                    chain.append(user["id"])
                    self.answered[prompt] += 1
                    self.stored.setdefault(cid, []).append(user)
                chain.append(answer["id"])
                self.stored.setdefault(cid, []).append(answer)
                self.updated[cid] = __import__("time").time()
            if fault == "cut":
                stream = stream[: len(stream) * 2 // 3]
            if fault == "lost":  # stored, but a gateway timed out before any byte came back
                return Response("<html>504 Gateway Time-out</html>", status=504)
        return Response(stream, content_type="text/event-stream")
