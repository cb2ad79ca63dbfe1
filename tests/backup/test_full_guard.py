"""Finding 2: --full does not trust an empty or implausibly short list, nor a list missing its
key, and only conversations that came from the account's own lists are candidates."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.errors import UpstreamError
from archiver.providers.bing.client import parse_chat_list
from archiver.store import open_db
from tests.support.fake_chatgpt import TOKEN, FakeChatGPT


@pytest.fixture
def fake(httpserver):
    upstream = FakeChatGPT()
    upstream.base_url = upstream.install(httpserver)
    for n in range(4):
        upstream.add(f"c{n}", 1_700_000_000 + n)
    return upstream


def backup(fake, db_path, *extra):
    env = {"CHATGPT_ACCESS_TOKEN": TOKEN, "CHATGPT_BASE_URL": fake.base_url}
    args = ["backup", "chatgpt", str(db_path), "--no-snapshot", "--max-rpm", "6000", *extra]
    return CliRunner().invoke(cli, args, env=env)


def marked(db_path):
    db = open_db(db_path)
    return {
        row[0]
        for row in db.execute(
            "SELECT id FROM conversations WHERE deleted_upstream_at IS NOT NULL"
        ).fetchall()
    }


def test_an_empty_list_marks_nothing_without_force(tmp_path, fake):
    db_path = tmp_path / "a.db"
    assert backup(fake, db_path).exit_code == 0
    fake.hidden_from_list.update(fake.conversations)  # the list comes back empty
    result = backup(fake, db_path, "--full")
    assert result.exit_code == 3, result.output
    assert "nothing was marked deleted" in result.output and "--force" in result.output
    assert marked(db_path) == set()
    result = backup(fake, db_path, "--full", "--force")
    assert result.exit_code == 0, result.output
    assert marked(db_path) == {"c0", "c1", "c2", "c3"}


def test_an_implausibly_short_list_marks_nothing(tmp_path, fake):
    db_path = tmp_path / "a.db"
    assert backup(fake, db_path).exit_code == 0
    fake.hidden_from_list.update({"c0", "c1", "c2"})  # 1 of 4 listed
    assert backup(fake, db_path, "--full").exit_code == 3
    assert marked(db_path) == set()
    fake.hidden_from_list = {"c0"}  # 3 of 4: plausible, c0 is really gone
    assert backup(fake, db_path, "--full").exit_code == 0
    assert marked(db_path) == {"c0"}


def test_conversations_never_listed_are_not_candidates(tmp_path, fake):
    db_path = tmp_path / "a.db"
    assert backup(fake, db_path).exit_code == 0
    db = open_db(db_path)
    # As an import or a batch leaves them: never seen in a list.
    db.execute("UPDATE conversations SET list_update_time = NULL WHERE id IN ('c0', 'c1')")
    db.conn.commit()
    fake.hidden_from_list.update({"c0", "c1", "c2"})
    assert backup(fake, db_path, "--full").exit_code == 0
    assert marked(db_path) == {"c2"}


def test_list_entries_without_an_id_are_counted_and_make_a_full_walk_mark_nothing(tmp_path, fake):
    db_path = tmp_path / "a.db"
    assert backup(fake, db_path).exit_code == 0
    fake.garbled_in_list.add("c0")  # c0 is still there, but its entry cannot be read
    result = backup(fake, db_path)
    assert result.exit_code == 0 and "unreadable_listed 1" in result.output
    result = backup(fake, db_path, "--full")
    assert result.exit_code == 3, result.output
    assert "1 list entry without a usable id" in result.output
    assert marked(db_path) == set()  # c0 was not taken for gone
    assert backup(fake, db_path, "--full", "--force").exit_code == 0
    assert marked(db_path) == {"c0"}


def test_a_bing_list_keeps_entries_it_cannot_read():
    chats = parse_chat_list(
        {"chats": [{"conversationId": "a"}, {"chatName": "no id"}], "result": {"value": "Success"}}
    )
    assert [c.conversation_id for c in chats.chats] == ["a"]
    assert chats.unreadable == [{"chatName": "no id"}]


def test_a_bing_list_without_its_chats_key_is_an_error():
    with pytest.raises(UpstreamError):
        parse_chat_list({})
    with pytest.raises(UpstreamError):
        parse_chat_list({"result": {"value": "Success"}})
    listed = parse_chat_list({"result": {"value": "Success", "message": "0 chats found."}})
    assert listed.chats == []
