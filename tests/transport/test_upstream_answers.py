"""Findings 5 and 11: a 5xx saying "Rate limit exceeded" is a throttle and shown; a 200 web page
is a wrong base URL, not a challenge; a 404 on the list suggests the /backend-api suffix."""

from __future__ import annotations

import pytest

from archiver.errors import ChallengeError, RateLimitExceeded, WrongEndpointError
from archiver.transport.responses import decode_json, raise_for_status

HTML = {"Content-Type": "text/html"}


def test_a_500_saying_rate_limit_exceeded_is_a_throttle():
    with pytest.raises(RateLimitExceeded) as caught:
        raise_for_status(
            500, {}, b'{"error": "Rate limit exceeded"}', method="GET", url="http://h/x"
        )
    assert "Rate limit exceeded" in str(caught.value)


def test_a_200_web_page_is_a_wrong_base_url():
    page = b"<!DOCTYPE html><html><head><title>Welcome</title></head></html>"
    with pytest.raises(WrongEndpointError) as caught:
        decode_json(200, HTML, page, method="GET", url="http://h/conversations")
    assert caught.value.exit_code == 2 and "wrong base URL" in str(caught.value)


def test_a_200_challenge_page_is_still_a_challenge():
    page = b"<html><head><title>Just a moment...</title></head></html>"
    with pytest.raises(ChallengeError):
        decode_json(200, HTML, page, method="GET", url="http://h/conversations")


def test_a_404_on_the_list_suggests_the_suffix(tmp_path, httpserver):
    from click.testing import CliRunner

    from archiver.cli import cli

    httpserver.expect_request("/conversations").respond_with_json({"detail": "Not Found"}, 404)
    env = {"CHATGPT_ACCESS_TOKEN": "t", "CHATGPT_BASE_URL": httpserver.url_for("/")}
    args = ["backup", "chatgpt", str(tmp_path / "a.db"), "--no-snapshot", "--max-rpm", "6000"]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 2, result.output
    assert "/backend-api" in result.output
