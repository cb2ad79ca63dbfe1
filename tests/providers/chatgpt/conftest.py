"""Fixtures for the account tests: settings aimed at pytest-httpserver, a fresh archive."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlite_utils
from pytest_httpserver import HTTPServer

from archiver.config import Secret
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.store import open_db
from tests.support.account_helpers import TOKEN


@pytest.fixture
def settings(httpserver: HTTPServer) -> ChatGPTSettings:
    return ChatGPTSettings(base_url=httpserver.url_for("/backend-api"), token=Secret(TOKEN))


@pytest.fixture
def db(tmp_path) -> Iterator[sqlite_utils.Database]:
    database = open_db(tmp_path / "archive.db")
    yield database
    database.conn.close()
