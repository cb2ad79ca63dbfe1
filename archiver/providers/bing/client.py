"""Bing chat ("Sydney") REST: create, the saved chat list, GetConversation, delete.

Request building and response parsing are plain functions (sans-I/O); ``BingClient`` is a thin
adapter over the shared HttpClient. Bing reports most failures in HTTP 200 bodies
(``result.value``); ``check_result`` maps them onto the archiver's exceptions.

Credentials: the cookie is sent per request, never shown. Conversation signatures are
credentials too: they travel as a query parameter or a bearer header, and error messages name
only the method and path (``responses.where``)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from archiver.config import Secret, pasted_cookie_header
from archiver.errors import AuthError, NotFoundError, QuotaExhausted, UpstreamError
from archiver.providers.bing.options import COOKIE, DEFAULT_BING_BASE_URL, DEFAULT_SYDNEY_BASE_URL
from archiver.settings import EnvUrl, FromEnvironment, OneSignIn, env_sources
from archiver.timeutil import to_iso
from archiver.transport.http import HttpClient

BING_AUTH_REFUSED = "the Bing cookie was refused (expired?)"

CREATE_PATH = "turing/conversation/create"
CHATS_PATH = "turing/conversation/chats"
GET_CONVERSATION_PATH = "sydney/GetConversation"
DELETE_PATH = "sydney/DeleteSingleConversation"

SIGNATURE_HEADER = "x-sydney-conversationsignature"
ENCRYPTED_SIGNATURE_HEADER = "x-sydney-encryptedconversationsignature"

# Where GetConversation takes the signature: the 2023 query parameter, or a newer bearer header.
SIGNATURE_IN_QUERY = "query"
SIGNATURE_AS_BEARER = "bearer"
SIGNATURE_MODES = (SIGNATURE_IN_QUERY, SIGNATURE_AS_BEARER)

_AUTH_VALUES = {"unauthorizedrequest", "forbidden"}
_QUOTA_VALUES = {"throttled", "captchachallenge"}
# A cookie header starts with a cookie name and "=" followed by a value; a bare _U value is
# base64-like and can only end in "=" padding.
_COOKIE_PAIR = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+=[^=]")


def cookie_header_value(raw: str) -> str:
    """``BING_COOKIE`` is a ``_U`` value or a whole Cookie header (``Cookie:`` prefix allowed)."""
    value = pasted_cookie_header(raw)
    if ";" in value or _COOKIE_PAIR.match(value):
        return value
    return f"_U={value}"


@dataclass(frozen=True)
class BingSettings(OneSignIn, FromEnvironment):
    cookie: Secret
    bing_base_url: str = DEFAULT_BING_BASE_URL
    sydney_base_url: str = DEFAULT_SYDNEY_BASE_URL

    FROM_ENV = env_sources(
        cookie=COOKIE,
        bing_base_url=EnvUrl("BING_BASE_URL", DEFAULT_BING_BASE_URL),
        sydney_base_url=EnvUrl("SYDNEY_BASE_URL", DEFAULT_SYDNEY_BASE_URL),
    )

    def headers(self) -> dict[str, str]:
        return {
            "Cookie": cookie_header_value(self.cookie.reveal()),
            "Accept": "application/json",
        }

    def bing_url(self, path: str) -> str:
        return f"{self.bing_base_url.rstrip('/')}/{path.lstrip('/')}"

    def sydney_url(self, path: str) -> str:
        return f"{self.sydney_base_url.rstrip('/')}/{path.lstrip('/')}"


@dataclass(frozen=True)
class CreatedConversation:
    conversation_id: str
    client_id: str
    signature: str | None = field(default=None, repr=False)
    encrypted_signature: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class BingChat:
    """One entry of the saved chat list."""

    conversation_id: str
    title: str | None  # the list's chatName
    create_time: str | None
    update_time: str | None
    signature: str | None = field(default=None, repr=False)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ChatList:
    chats: list[BingChat]
    client_id: str | None
    unreadable: list[Any] = field(default_factory=list)  # entries without a conversationId


# --- result codes -------------------------------------------------------------------------


def check_result(payload: Any, what: str) -> None:
    """Raise what a non-``Success`` ``result.value`` means. ``what`` names the call (a path)."""
    if not isinstance(payload, dict):
        raise UpstreamError(f"{what} answered an unexpected shape")
    result = payload.get("result")
    if not isinstance(result, dict):
        return  # GetConversation answers do not always carry a result
    value = result.get("value")
    if not isinstance(value, str) or value.lower() == "success":
        return
    lowered = value.lower()
    if lowered in _AUTH_VALUES:
        raise AuthError(f"{BING_AUTH_REFUSED} ({what} answered {value})", url=what)
    if lowered == "throttled":
        raise QuotaExhausted(
            f"Bing throttled this account ({what} answered Throttled: the daily cap); "
            "what was archived is kept, run again later",
            url=what,
        )
    if lowered == "captchachallenge":
        raise QuotaExhausted(
            f"Bing asks for a CAPTCHA ({what} answered CaptchaChallenge); solve it in a "
            "browser, then run again; what was archived is kept",
            url=what,
        )
    if lowered == "notfound":  # a chat deleted upstream: the engine marks it, keeps it
        raise NotFoundError(f"{what} answered NotFound", status=404, url=what)
    raise UpstreamError(f"{what} answered {value}", url=what)


# --- create -------------------------------------------------------------------------------


def create_params(conversation_id: str | None = None) -> dict[str, str]:
    """``create?conversationId=`` re-issues signatures for an existing chat."""
    return {"conversationId": conversation_id} if conversation_id else {}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value or None
    return None


def parse_create(payload: Any, headers: Mapping[str, str]) -> CreatedConversation:
    """The 2023 body carries ``conversationSignature``; from late 2023 the signatures come in
    ``X-Sydney-Conversationsignature`` / ``X-Sydney-Encryptedconversationsignature`` headers."""
    check_result(payload, f"GET /{CREATE_PATH}")
    conversation_id = payload.get("conversationId")
    client_id = payload.get("clientId")
    if not isinstance(conversation_id, str) or not conversation_id:
        raise UpstreamError(f"GET /{CREATE_PATH} answered no conversationId")
    body_signature = payload.get("conversationSignature")
    body_encrypted = payload.get("encryptedConversationSignature")
    signature = (
        body_signature if isinstance(body_signature, str) and body_signature else None
    ) or _header(headers, SIGNATURE_HEADER)
    encrypted = (
        body_encrypted if isinstance(body_encrypted, str) and body_encrypted else None
    ) or _header(headers, ENCRYPTED_SIGNATURE_HEADER)
    if not signature and not encrypted:
        raise UpstreamError(f"GET /{CREATE_PATH} answered no conversation signature")
    return CreatedConversation(
        conversation_id=conversation_id,
        client_id=client_id if isinstance(client_id, str) else "",
        signature=signature,
        encrypted_signature=encrypted,
    )


# --- chat list ----------------------------------------------------------------------------


def parse_chat(raw: Any) -> BingChat | None:
    if not isinstance(raw, dict):
        return None
    conversation_id = raw.get("conversationId")
    if not isinstance(conversation_id, str) or not conversation_id:
        return None
    name = raw.get("chatName")
    signature = raw.get("conversationSignature")
    return BingChat(
        conversation_id=conversation_id,
        title=name if isinstance(name, str) else None,
        create_time=to_iso(raw.get("createTimeUtc")),
        update_time=to_iso(raw.get("updateTimeUtc")) or to_iso(raw.get("createTimeUtc")),
        signature=signature if isinstance(signature, str) and signature else None,
        raw=raw,
    )


def _says_no_chats(payload: dict[str, Any]) -> bool:
    """Only an explicit "0 chats found." excuses a missing ``chats`` key: a bare ``{}`` is a
    broken answer, and trusting it would make a full walk mark every chat deleted."""
    result = payload.get("result")
    message = result.get("message") if isinstance(result, dict) else None
    return isinstance(message, str) and message.strip().startswith("0 chats")


def parse_chat_list(payload: Any) -> ChatList:
    check_result(payload, f"GET /{CHATS_PATH}")
    raw_chats = payload.get("chats")
    if raw_chats is None and _says_no_chats(payload):
        raw_chats = []  # "0 chats found." may come without the key
    if not isinstance(raw_chats, list):
        raise UpstreamError(f"GET /{CHATS_PATH} answered an unexpected shape")
    parsed = [(raw, parse_chat(raw)) for raw in raw_chats]
    chats = [chat for _, chat in parsed if chat is not None]
    unreadable = [raw for raw, chat in parsed if chat is None]
    client_id = payload.get("clientId")
    client_id = client_id if isinstance(client_id, str) and client_id else None
    return ChatList(chats, client_id, unreadable)


# --- GetConversation ----------------------------------------------------------------------


def get_conversation_request(
    conversation_id: str,
    client_id: str | None,
    signature: str,
    mode: str,
    *,
    trace_id: str | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """(params, extra headers) for GetConversation with the signature placed per ``mode``."""
    params = {"conversationId": conversation_id, "source": "cib"}
    if client_id:
        params["participantId"] = client_id
    headers: dict[str, str] = {}
    if mode == SIGNATURE_IN_QUERY:
        params["conversationSignature"] = signature
    elif mode == SIGNATURE_AS_BEARER:
        headers["Authorization"] = f"Bearer {signature}"
    else:
        raise ValueError(f"unknown signature mode {mode!r}")
    params["traceId"] = trace_id or uuid.uuid4().hex
    return params, headers


def parse_get_conversation(payload: Any) -> dict[str, Any]:
    check_result(payload, f"GET /{GET_CONVERSATION_PATH}")
    messages = payload.get("messages")
    if messages is not None and not isinstance(messages, list):
        raise UpstreamError(f"GET /{GET_CONVERSATION_PATH} answered an unexpected shape")
    return payload


# --- delete -------------------------------------------------------------------------------


def delete_body(conversation_id: str, signature: str, client_id: str) -> dict[str, Any]:
    return {
        "conversationId": conversation_id,
        "conversationSignature": signature,
        "participant": {"id": client_id},
        "source": "cib",
        "optionsSets": ["autosave"],
    }


# --- the client ---------------------------------------------------------------------------


class BingClient:
    """Bing REST over the shared HttpClient (one limiter, one retry policy)."""

    provider = "bing"

    def __init__(self, http: HttpClient, settings: BingSettings):
        self.http = http
        self.settings = settings
        # The signature placement the server accepted in this run (None: not known yet).
        self.signature_mode: str | None = None

    async def create_conversation(self, conversation_id: str | None = None) -> CreatedConversation:
        """A new chat, or (with ``conversation_id``) fresh signatures for an existing one."""
        payload, headers = await self.http.request_json_with_headers(
            "GET",
            self.settings.bing_url(CREATE_PATH),
            headers=self.settings.headers(),
            params=create_params(conversation_id),
        )
        return parse_create(payload, headers)

    async def list_chats(self) -> ChatList:
        payload = await self.http.request_json(
            "GET", self.settings.bing_url(CHATS_PATH), headers=self.settings.headers()
        )
        return parse_chat_list(payload)

    async def get_conversation(self, chat: BingChat, client_id: str | None) -> dict[str, Any]:
        """The chat's history. Uses the list's signature, or re-issues one with ``create`` when
        the list has none or the one it had is refused."""
        signature = chat.signature
        reissued = False
        if not signature:
            created = await self.create_conversation(chat.conversation_id)
            signature = created.signature or created.encrypted_signature or ""
            client_id = created.client_id or client_id
            reissued = True
        while True:
            try:
                return await self._get_with_signature(chat.conversation_id, client_id, signature)
            except AuthError:
                if reissued:
                    raise
            created = await self.create_conversation(chat.conversation_id)
            signature = created.signature or created.encrypted_signature or ""
            client_id = created.client_id or client_id
            reissued = True

    async def _get_with_signature(
        self, conversation_id: str, client_id: str | None, signature: str
    ) -> dict[str, Any]:
        """Try the placement that worked before (or the query first); on an auth-type refusal
        try the other one, and remember whichever the server accepted."""
        first = self.signature_mode or SIGNATURE_IN_QUERY
        modes = [first] + [mode for mode in SIGNATURE_MODES if mode != first]
        refused: AuthError | None = None
        for mode in modes:
            params, extra = get_conversation_request(conversation_id, client_id, signature, mode)
            try:
                payload = await self.http.request_json(
                    "GET",
                    self.settings.sydney_url(GET_CONVERSATION_PATH),
                    headers={**self.settings.headers(), **extra},
                    params=params,
                )
                conversation = parse_get_conversation(payload)
            except AuthError as exc:
                refused = exc
                continue
            self.signature_mode = mode
            return conversation
        assert refused is not None
        raise refused

    async def delete_conversation(
        self, conversation_id: str, signature: str, client_id: str
    ) -> dict[str, Any]:
        payload = await self.http.request_json(
            "POST",
            self.settings.sydney_url(DELETE_PATH),
            headers=self.settings.headers(),
            json=delete_body(conversation_id, signature, client_id),
        )
        check_result(payload, f"POST /{DELETE_PATH}")
        return payload


# An HttpClient(session, limiter, policy) whose 401 message speaks of the Bing cookie.
new_bing_http = partial(HttpClient, auth_message=BING_AUTH_REFUSED)


__all__ = [
    "BING_AUTH_REFUSED",
    "BingChat",
    "BingClient",
    "BingSettings",
    "ChatList",
    "CreatedConversation",
    "check_result",
    "cookie_header_value",
    "new_bing_http",
    "parse_chat_list",
    "parse_create",
    "parse_get_conversation",
]
