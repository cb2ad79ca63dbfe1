"""A small in-test ChatGPT backend-api for pytest-httpserver: list paging, details, faults,
and a log of what was asked. Formats follow docs/protocol/chatgpt.md."""

from __future__ import annotations

import copy
import json
import re
from collections import defaultdict, deque
from datetime import UTC, datetime
from typing import Any

from werkzeug import Request, Response

from tests.support.export_helpers import conversation

TOKEN = "test-access-token-do-not-leak"

# The list's timestamp forms seen in the wild, used in turn.
_ISO_FORMS = (
    lambda dt: dt.strftime("%Y-%m-%dT%H:%M:%S.%f"),
    lambda dt: dt.isoformat(),
    lambda dt: dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z",
)


def question_and_answer(text: str) -> dict[str, str]:
    return {"question": f"question {text}", "answer": f"answer {text}"}


class FakeChatGPT:
    def __init__(self, token: str = TOKEN):
        self.token = token
        self.conversations: dict[str, dict[str, Any]] = {}
        self.archived: set[str] = set()
        self.hidden_from_list: set[str] = set()
        self.garbled_in_list: set[str] = set()  # listed without a usable id
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self.files: dict[str, bytes] = {}  # file id -> bytes, served as 2026 serves them
        # path -> responses served before the normal answer (429s, 5xx, challenge pages ...)
        self.faults: dict[str, deque[Response]] = defaultdict(deque)

    def add(self, cid: str, update_time: float, *, archived: bool = False, text: str = "x") -> None:
        self.conversations[cid] = {
            **conversation(cid, update_time=update_time, **question_and_answer(text)),
            "title": f"title {cid}",
            "create_time": update_time - 100,
            "is_archived": archived,
        }
        if archived:
            self.archived.add(cid)

    def touch(self, cid: str, update_time: float, text: str) -> None:
        conv = self.conversations[cid]
        conv["update_time"] = update_time
        qa = question_and_answer(text)
        conv["mapping"] = conversation(cid, question=qa["question"], answer=qa["answer"])["mapping"]

    def requests(self, path_pattern: str) -> list[tuple[str, str, dict[str, str]]]:
        return [r for r in self.log if re.search(path_pattern, r[1])]

    def install(self, httpserver: Any) -> str:
        httpserver.expect_request(re.compile(r"^/backend-api/.*")).respond_with_handler(
            lambda request: self.handle(request)  # looked up per request: tests may wrap it
        )
        return httpserver.url_for("/backend-api")

    def handle(self, request: Request) -> Response:
        path = request.path
        self.log.append((request.method, path, dict(request.args)))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json({"detail": {"code": "token_expired"}}, 401)
        if self.faults[path]:
            return self.faults[path].popleft()
        if path == "/backend-api/conversations":
            return self._list(request)
        match = re.fullmatch(r"/backend-api/conversation/([^/]+)", path)
        if match:
            cid = match[1]
            if cid not in self.conversations:
                return _json({"detail": "Can't load conversation"}, 404)
            return _json(self.conversations[cid])
        match = re.fullmatch(r"/backend-api/files/download/([^/]+)", path)
        if match and match[1] in self.files:
            url = f"{request.host_url}backend-api/estuary/content?id={match[1]}&sig=s"
            body = {"status": "success", "download_url": url, "file_name": f"{match[1]}.bin"}
            return _json({**body, "file_size_bytes": len(self.files[match[1]])})
        if path == "/backend-api/estuary/content" and request.args.get("id") in self.files:
            return Response(self.files[request.args["id"]], mimetype="application/octet-stream")
        return _json({"detail": "Not Found"}, 404)

    def _list(self, request: Request) -> Response:
        limit = int(request.args.get("limit", 20))
        if limit > 100:
            return _json(
                {"detail": [{"msg": "ensure this value is less than or equal to 100"}]}, 422
            )
        offset = int(request.args.get("offset", 0))
        archived = request.args.get("is_archived") == "true"
        rows = [
            c
            for cid, c in self.conversations.items()
            if (cid in self.archived) == archived and cid not in self.hidden_from_list
        ]
        rows.sort(key=lambda c: c["update_time"], reverse=True)
        items = []
        for i, conv in enumerate(rows[offset : offset + limit]):
            form = _ISO_FORMS[(offset + i) % len(_ISO_FORMS)]
            item = copy.deepcopy({k: v for k, v in conv.items() if k != "mapping"})
            item["id"] = None if conv["conversation_id"] in self.garbled_in_list else conv["id"]
            item["create_time"] = form(datetime.fromtimestamp(conv["create_time"], tz=UTC))
            item["update_time"] = form(datetime.fromtimestamp(conv["update_time"], tz=UTC))
            item["mapping"] = None
            item["current_node"] = None
            items.append(item)
        return _json(
            {
                "items": items,
                "total": len(rows) + 3,  # the total is not to be trusted
                "limit": limit,
                "offset": offset,
                "has_missing_conversations": False,
            }
        )


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload), status=status, headers=headers, mimetype="application/json"
    )


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return _json(payload, status, headers)


CHALLENGE_PAGE = Response(
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>cf</body></html>",
    status=403,
    mimetype="text/html",
)
