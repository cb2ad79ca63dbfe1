from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archiver.doctor import clock_skew_seconds, server_date, token_expiry
from archiver.providers.chatgpt.account_parse import (
    SNAPSHOT_ENDPOINTS,
    gen_title_body,
    is_placeholder_title,
    parse_account_check,
    parse_beta_features,
    parse_conversation_limit,
    parse_export_status,
    parse_gen_title,
    parse_models,
    parse_shared_page,
    parse_success,
    share_url,
    shared_params,
    title_from_prompt,
)
from tests.support.helpers import load_fixture


def test_account_check_2023_shape():
    info = parse_account_check(load_fixture("account/accounts_check_2023.json"))
    assert info.plan == "chatgptfreeplan"
    assert info.paid is False
    assert info.expires_at == "2023-12-14T13:34:26.000000Z"
    assert len(info.features) == 4
    assert info.recognised


def test_account_check_v4_shape():
    info = parse_account_check(load_fixture("account/accounts_check_v4.json"))
    assert info.plan == "chatgptplusplan"
    assert info.paid is True
    assert info.expires_at == "2024-06-01T00:00:00.000000Z"
    assert info.features == ("beta_features", "shareable_links")
    assert len(info.account_ids) == 2


@pytest.mark.parametrize("payload", [None, [], "x", {}, {"detail": "nope"}])
def test_account_check_unrecognised(payload):
    assert not parse_account_check(payload).recognised


def test_models_beta_limits():
    assert parse_models(load_fixture("account/models.json")) == [
        "text-davinci-002-render-sha",
        "gpt-4",
    ]
    assert parse_models({"models": "x"}) == []
    beta = parse_beta_features(load_fixture("account/beta_features.json"))
    assert beta["browsing"] is True and beta["dalle"] is False
    limit = parse_conversation_limit(load_fixture("account/conversation_limit.json"))
    assert limit is not None
    assert limit.describe() == "40 messages every 180 minutes"
    assert parse_conversation_limit({}).describe() == "no message cap reported"
    assert parse_conversation_limit([]) is None


def test_snapshot_endpoints_conversation_limit_off_root():
    names = [e.name for e in SNAPSHOT_ENDPOINTS]
    assert names[0] == "accounts/check"
    assert [e.off_root for e in SNAPSHOT_ENDPOINTS] == [False, False, False, True]


def test_shared_page():
    links = parse_shared_page(load_fixture("account/shared_conversations.json"))
    assert [link.id for link in links] == [
        "9942703e-0b2b-42b3-aee5-ed0de8335e2d",
        "1b2c3d4e-0000-4000-8000-0000000000s2",
    ]
    assert links[0].conversation_id == "c0ffee00-0000-4000-8000-000000000001"
    assert links[0].create_time == "2023-12-13T17:16:53.407544Z"
    assert links[0].is_anonymous is None and links[1].is_anonymous is True
    assert shared_params(50) == {"order": "created", "offset": "50", "limit": "50"}
    assert share_url("https://chatgpt.com/", "abc") == "https://chatgpt.com/share/abc"
    with pytest.raises(ValueError):
        parse_shared_page({"detail": "x"})


def test_gen_title_answers():
    assert parse_gen_title({"title": " Branches "}).title == "Branches"
    already = parse_gen_title(load_fixture("account/gen_title_already.json"))
    assert already.already_titled and already.title == "Branches explained"
    unsaid = parse_gen_title({"message": "Conversation x already has a title"})
    assert unsaid.already_titled and unsaid.title is None
    assert parse_gen_title({"detail": "?"}).title is None
    assert gen_title_body("m1") == {"message_id": "m1"}
    assert parse_success({"success": True}) and not parse_success({"success": "yes"})


@pytest.mark.parametrize(
    ("title", "placeholder"),
    [(None, True), ("", True), ("New chat", True), (" new Chat ", True), ("Real", False)],
)
def test_placeholder_titles(title, placeholder):
    assert is_placeholder_title(title) is placeholder


def test_title_from_prompt():
    assert title_from_prompt("\n  Hello   there \nsecond line") == "Hello there"
    long = title_from_prompt("word " * 40)
    assert long is not None and len(long) <= 60 and long.endswith("…")
    assert title_from_prompt("   \n ") is None and title_from_prompt(None) is None


def test_export_status():
    assert parse_export_status({"status": "queued"}) == "queued"
    assert parse_export_status({"detail": "x"}) is None


def test_server_date_and_skew():
    headers = {"date": "Mon, 01 Jan 2024 00:00:00 GMT"}
    assert server_date(headers) == datetime(2024, 1, 1, tzinfo=UTC)
    local = datetime(2024, 1, 1, 0, 10, tzinfo=UTC)
    assert clock_skew_seconds(headers, local) == -600.0
    assert clock_skew_seconds({"Date": "garbage"}, local) is None
    assert clock_skew_seconds({}, local) is None


def test_token_expiry_reads_exp_only():
    import base64
    import json

    claims = base64.urlsafe_b64encode(json.dumps({"exp": 1704067200}).encode()).decode()
    assert token_expiry(f"h.{claims.rstrip('=')}.s") == datetime(2024, 1, 1, tzinfo=UTC)
    assert token_expiry("not-a-jwt") is None
    assert token_expiry("a.!!!.c") is None
