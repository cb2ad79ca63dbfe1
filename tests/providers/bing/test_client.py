"""Bing REST: sans-I/O parsing of create/chats/GetConversation and the thin client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from archiver.config import Secret
from archiver.errors import (
    AuthError,
    ConfigError,
    NotFoundError,
    QuotaExhausted,
    UpstreamError,
)
from archiver.providers.bing.client import (
    BING_AUTH_REFUSED,
    BingChat,
    BingClient,
    BingSettings,
    check_result,
    cookie_header_value,
    new_bing_http,
    parse_chat_list,
    parse_create,
)
from archiver.transport.http import new_session
from archiver.transport.ratelimit import RateLimiter
from tests.support.helpers import load_fixture
from tests.support.transport import FAST

COOKIE = "cookie-value-that-must-stay-secret"


def run_client(server: HTTPServer, call: Callable[[BingClient], Awaitable[Any]]) -> Any:
    settings = BingSettings(
        Secret(COOKIE),
        bing_base_url=server.url_for("/bing"),
        sydney_base_url=server.url_for("/sydney"),
    )

    async def main() -> Any:
        async with new_session(timeout_seconds=10) as session:
            client = BingClient(new_bing_http(session, RateLimiter(None), FAST), settings)
            return await call(client)

    return asyncio.run(main())


# --- settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "header"),
    [
        ("abcDEF123_-", "_U=abcDEF123_-"),
        ("abc==", "_U=abc=="),
        ("_U=abc; SRCHHPGUSR=x", "_U=abc; SRCHHPGUSR=x"),
        ("Cookie: _U=abc", "_U=abc"),
        ("MUID=1", "MUID=1"),
    ],
)
def test_cookie_header_value(raw: str, header: str) -> None:
    assert cookie_header_value(raw) == header


def test_settings_from_env_defaults_and_masking() -> None:
    settings = BingSettings.from_env(environ={"BING_COOKIE": COOKIE})
    assert settings.bing_base_url == "https://www.bing.com"
    assert settings.sydney_base_url == "https://sydney.bing.com"
    assert settings.headers()["Cookie"] == f"_U={COOKIE}"
    assert COOKIE not in repr(settings)


def test_settings_without_cookie_names_the_option() -> None:
    with pytest.raises(ConfigError, match=r"BING_COOKIE.*--cookie-file"):
        BingSettings.from_env(environ={})


def test_settings_cookie_file_must_be_private(tmp_path: Any) -> None:
    path = tmp_path / "cookie"
    path.write_text(COOKIE)
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        BingSettings.from_env(str(path), environ={})
    path.chmod(0o600)
    assert BingSettings.from_env(str(path), environ={}).cookie.reveal() == COOKIE


# --- parsers ------------------------------------------------------------------------------


def test_parse_create_body_signature_2023() -> None:
    created = parse_create(load_fixture("bing/create_2023.json"), {})
    assert created.conversation_id == "51D|BingProd|AAAA1111"
    assert created.client_id == "1055519254557000"
    assert created.signature == "sig-body-2023"
    assert created.encrypted_signature is None
    assert "sig-body-2023" not in repr(created)


def test_parse_create_header_signatures() -> None:
    headers = {
        "X-Sydney-Conversationsignature": "sig-header",
        "X-Sydney-Encryptedconversationsignature": "enc-header",
    }
    created = parse_create(load_fixture("bing/create_header_style.json"), headers)
    assert created.signature == "sig-header"
    assert created.encrypted_signature == "enc-header"


def test_parse_create_without_any_signature_fails() -> None:
    with pytest.raises(UpstreamError, match="no conversation signature"):
        parse_create(load_fixture("bing/create_header_style.json"), {})


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("UnauthorizedRequest", AuthError),
        ("Forbidden", AuthError),
        ("Throttled", QuotaExhausted),
        ("CaptchaChallenge", QuotaExhausted),
        ("InvalidRequest", UpstreamError),
        ("NotFound", NotFoundError),
    ],
)
def test_check_result_maps_failures(value: str, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        check_result({"result": {"value": value, "message": "x"}}, "GET /turing/x")
    assert info.value.exit_code == error.exit_code  # type: ignore[attr-defined]
    if error is AuthError:
        assert BING_AUTH_REFUSED in str(info.value)


def test_check_result_success_and_absent() -> None:
    check_result({"result": {"value": "Success"}}, "GET /x")
    check_result({"messages": []}, "GET /x")


def test_parse_chat_list_times_ms_and_seconds() -> None:
    chats = parse_chat_list(load_fixture("bing/chats.json"))
    assert chats.client_id == "1055519254557000"
    assert [c.conversation_id for c in chats.chats] == [
        "51D|BingProd|CHAT0001",
        "51D|BingProd|CHAT0002",
    ]
    assert chats.chats[0].update_time == "2023-05-18T09:03:20.000000Z"  # milliseconds
    assert chats.chats[1].update_time == "2023-05-17T05:11:40.000000Z"  # seconds
    assert chats.chats[0].signature == "sig-chat-1"


def test_parse_chat_list_unauthorized() -> None:
    with pytest.raises(AuthError):
        parse_chat_list({"result": {"value": "UnauthorizedRequest", "message": "no"}})


# --- client -------------------------------------------------------------------------------


def test_create_conversation_reads_header_signatures(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/bing/turing/conversation/create",
        headers={"Cookie": f"_U={COOKIE}"},
    ).respond_with_json(
        load_fixture("bing/create_header_style.json"),
        headers={
            "X-Sydney-Conversationsignature": "sig-h",
            "X-Sydney-Encryptedconversationsignature": "enc-h",
        },
    )
    created = run_client(httpserver, lambda c: c.create_conversation())
    assert (created.signature, created.encrypted_signature) == ("sig-h", "enc-h")


def test_create_conversation_reissues_for_an_existing_chat(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/bing/turing/conversation/create", query_string={"conversationId": "C1"}
    ).respond_with_json(
        {"conversationId": "C1", "clientId": "cl", "conversationSignature": "fresh"}
    )
    created = run_client(httpserver, lambda c: c.create_conversation("C1"))
    assert created.conversation_id == "C1" and created.signature == "fresh"


CHAT = BingChat("C1", "chat", None, None, signature="sig-1")


def test_get_conversation_signature_in_query(httpserver: HTTPServer) -> None:
    def handler(request: Request) -> Response:
        assert request.args["conversationSignature"] == "sig-1"
        assert request.args["participantId"] == "client-1"
        assert "Authorization" not in request.headers
        return Response('{"messages": [], "result": {"value": "Success"}}')

    httpserver.expect_request("/sydney/sydney/GetConversation").respond_with_handler(handler)

    async def call(client: BingClient) -> Any:
        answer = await client.get_conversation(CHAT, "client-1")
        return answer, client.signature_mode

    answer, mode = run_client(httpserver, call)
    assert answer["messages"] == [] and mode == "query"


def test_get_conversation_falls_back_to_bearer_and_remembers(httpserver: HTTPServer) -> None:
    seen: list[str] = []

    def handler(request: Request) -> Response:
        if request.headers.get("Authorization") == "Bearer sig-1":
            assert "conversationSignature" not in request.args
            seen.append("bearer")
            return Response('{"messages": [{"text": "hi", "author": "user"}]}')
        seen.append("query")
        return Response('{"result": {"value": "UnauthorizedRequest", "message": "sig"}}')

    httpserver.expect_request("/sydney/sydney/GetConversation").respond_with_handler(handler)

    async def call(client: BingClient) -> Any:
        await client.get_conversation(CHAT, "client-1")
        await client.get_conversation(CHAT, "client-1")
        return client.signature_mode

    assert run_client(httpserver, call) == "bearer"
    assert seen == ["query", "bearer", "bearer"]  # the second call goes straight to bearer


def test_get_conversation_reissues_a_missing_signature(httpserver: HTTPServer) -> None:
    def handler(request: Request) -> Response:
        assert request.args["conversationSignature"] == "reissued"
        assert request.args["participantId"] == "cl"
        return Response('{"messages": []}')

    httpserver.expect_request(
        "/bing/turing/conversation/create", query_string={"conversationId": "C1"}
    ).respond_with_json(
        {"conversationId": "C1", "clientId": "cl"},
        headers={"X-Sydney-Conversationsignature": "reissued"},
    )
    httpserver.expect_request("/sydney/sydney/GetConversation").respond_with_handler(handler)
    unsigned = BingChat("C1", None, None, None)
    answer = run_client(httpserver, lambda c: c.get_conversation(unsigned, None))
    assert answer == {"messages": []}


def test_get_conversation_both_refused_raises_auth_without_secrets(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/sydney/sydney/GetConversation").respond_with_json(
        {"result": {"value": "Forbidden"}}
    )
    httpserver.expect_request("/bing/turing/conversation/create").respond_with_json(
        {"result": {"value": "UnauthorizedRequest", "message": None}}
    )
    with pytest.raises(AuthError) as info:
        run_client(httpserver, lambda c: c.get_conversation(CHAT, "client-1"))
    assert "sig-1" not in str(info.value) and COOKIE not in str(info.value)


def test_http_401_speaks_of_the_cookie(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/bing/turing/conversation/chats").respond_with_data("no", status=401)
    with pytest.raises(AuthError, match="Bing cookie was refused"):
        run_client(httpserver, lambda c: c.list_chats())


def test_delete_conversation_posts_the_documented_body(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/sydney/sydney/DeleteSingleConversation",
        method="POST",
        json={
            "conversationId": "C1",
            "conversationSignature": "sig-1",
            "participant": {"id": "cl"},
            "source": "cib",
            "optionsSets": ["autosave"],
        },
    ).respond_with_json({"result": {"value": "Success", "message": "Conversation C1 deleted."}})
    answer = run_client(httpserver, lambda c: c.delete_conversation("C1", "sig-1", "cl"))
    assert answer["result"]["value"] == "Success"
