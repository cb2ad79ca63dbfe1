from __future__ import annotations

import pytest

from tests.support.helpers import load_fixture
from tests.support.jobhelpers import CONVERSATION_ID, TOKEN, write_job


@pytest.fixture
def chatgpt_upstream(httpserver):
    """One conversation in the default list, none archived, and its detail."""
    detail = load_fixture("chatgpt/branches.json")
    item = {
        "id": CONVERSATION_ID,
        "title": detail["title"],
        "create_time": "2023-12-06T02:40:00.500000+00:00",
        "update_time": "2023-12-06T02:41:14.616844+00:00",
        "mapping": None,
    }
    httpserver.expect_request(
        "/backend-api/conversations",
        query_string={"offset": "0", "limit": "100", "order": "updated"},
    ).respond_with_json({"items": [item], "total": 1, "limit": 100, "offset": 0})
    httpserver.expect_request(
        "/backend-api/conversations",
        query_string={"offset": "0", "limit": "100", "order": "updated", "is_archived": "true"},
    ).respond_with_json({"items": [], "total": 0, "limit": 100, "offset": 0})
    httpserver.expect_request(f"/backend-api/conversation/{CONVERSATION_ID}").respond_with_json(
        detail
    )
    return httpserver


@pytest.fixture
def token_env(monkeypatch):
    monkeypatch.setenv("CHATGPT_ACCESS_TOKEN", TOKEN)
    return TOKEN


@pytest.fixture
def backup_job(tmp_path, chatgpt_upstream):
    """A job file backing up the test upstream into tmp_path/archive.db (a relative db path)."""
    return write_job(
        tmp_path,
        "nightly",
        kind="backup chatgpt",
        db="archive.db",
        schedule="30 2 * * *",
        base_url=chatgpt_upstream.url_for("/backend-api"),
        token_env="CHATGPT_ACCESS_TOKEN",
        max_rpm=6000,
        no_snapshot=True,
    )
