from __future__ import annotations

import asyncio
import json

import pytest

from archiver.backup.engine import BackupOptions
from archiver.config import Secret
from archiver.errors import EXIT_CONFIG, EXIT_OK, EXIT_PARTIAL
from archiver.providers.chatgpt.backup import backup_chatgpt
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.providers.chatgpt.export.run import import_export
from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.store import open_db
from archiver.store.save import save_conversation
from archiver.transport.pace import ClientPace
from tests.support.export_helpers import conversation, write_zip
from tests.support.fake_chatgpt import CHALLENGE_PAGE, TOKEN, FakeChatGPT, json_response
from tests.support.transport import FAST

NODES_PER_CONVERSATION = 4  # root, hidden system, user, assistant (tests.support.export_helpers)


@pytest.fixture
def fake(httpserver):
    upstream = FakeChatGPT()
    upstream.base_url = upstream.install(httpserver)
    return upstream


@pytest.fixture
def db(tmp_path):
    return open_db(tmp_path / "archive.db")


def run(db, fake, *, token=TOKEN, full=False, archived=True, concurrency=2):
    settings = ChatGPTSettings(base_url=fake.base_url, token=Secret(token))
    return asyncio.run(
        backup_chatgpt(
            db,
            settings,
            options=BackupOptions(full=full, concurrency=concurrency),
            include_archived=archived,
            pace=ClientPace(None, policy=FAST),
            snapshot=False,  # account snapshots are tested in tests/providers/chatgpt (test_snapshots.py)
        )
    )


def ids(db):
    return sorted(r[0] for r in db.execute("SELECT id FROM conversations"))


def test_pages_through_the_list_and_archives_every_conversation(db, fake):
    for i in range(250):
        fake.add(f"c{i:03d}", 1_700_000_000 + i)
    for i in range(3):
        fake.add(f"arch{i}", 1_600_000_000 + i, archived=True)
    summary = run(db, fake)
    assert summary.exit_code == EXIT_OK
    assert len(ids(db)) == 253
    assert db["messages"].count == 253 * NODES_PER_CONVERSATION
    pages = fake.requests("/conversations$")
    assert all(int(q["limit"]) <= 100 for _, _, q in pages)
    assert [q["offset"] for _, _, q in pages if "is_archived" not in q] == ["0", "100", "200"]
    assert next(q for _, _, q in pages if "is_archived" in q)["is_archived"] == "true"
    assert summary.new == 253 and summary.fetched == 253 and summary.listed == 253
    archived = db.execute("SELECT count(*) FROM conversations WHERE is_archived = 1").fetchone()
    assert archived[0] == 3


def test_duplicates_across_shifting_pages_are_fetched_once(db, fake):
    for i in range(150):
        fake.add(f"c{i:03d}", 1_700_000_000 + i)
    original = fake._list

    def shifting_list(request):
        # A new conversation arrives after the first page: everything shifts down one place.
        if request.args.get("offset") == "100" and "new" not in fake.conversations:
            fake.add("new", 1_800_000_000)
        return original(request)

    fake._list = shifting_list
    summary = run(db, fake, archived=False)
    details = fake.requests("/conversation/")
    assert len(details) == len({path for _, path, _ in details})  # nobody fetched twice
    assert summary.listed == len(ids(db))


def test_no_change_second_run_makes_one_list_request_and_no_detail_request(db, fake):
    for i in range(120):
        fake.add(f"c{i:03d}", 1_700_000_000 + i)
    run(db, fake, archived=False)
    fake.log.clear()
    summary = run(db, fake, archived=False)
    assert [path for _, path, _ in fake.log] == ["/backend-api/conversations"]
    # + the projects sidebar (answered 404 by tests/conftest.py: no projects)
    assert summary.fetched == 0 and summary.requests == 2
    assert summary.exit_code == EXIT_OK


def test_with_archived_list_a_no_change_run_makes_one_request_per_list(db, fake):
    fake.add("a", 1_700_000_000)
    fake.add("b", 1_600_000_000, archived=True)
    run(db, fake)
    fake.log.clear()
    run(db, fake)
    assert len(fake.log) == 2 and not fake.requests("/conversation/")


def test_a_changed_conversation_is_refetched_alone(db, fake):
    for i in range(5):
        fake.add(f"c{i}", 1_700_000_000 + i)
    run(db, fake, archived=False)
    fake.touch("c2", 1_700_000_500, text="changed")
    fake.log.clear()
    summary = run(db, fake, archived=False)
    assert [p for _, p, _ in fake.requests("/conversation/")] == ["/backend-api/conversation/c2"]
    assert summary.updated == 1
    texts = [r[0] for r in db.execute("SELECT text FROM messages WHERE conversation_id = 'c2'")]
    assert "answer changed" in texts and "answer x" not in texts  # same node, new content


def test_429_with_retry_after_then_success(db, fake):
    fake.add("c1", 1_700_000_000)
    fake.faults["/backend-api/conversation/c1"].append(
        json_response(
            {"detail": "Too many requests in 1 minute. Try again later."}, 429, {"Retry-After": "0"}
        )
    )
    summary = run(db, fake, archived=False)
    assert summary.exit_code == EXIT_OK
    assert summary.throttled == 1
    assert ids(db) == ["c1"]
    assert len(fake.requests("/conversation/c1")) == 2


def test_5xx_is_retried_and_persistent_5xx_is_partial(db, fake):
    fake.add("ok", 1_700_000_001)
    fake.add("flaky", 1_700_000_002)
    fake.add("broken", 1_700_000_003)
    fake.faults["/backend-api/conversation/flaky"].append(json_response({}, 502))
    for _ in range(FAST.max_attempts):
        fake.faults["/backend-api/conversation/broken"].append(json_response({}, 503))
    summary = run(db, fake, archived=False)
    assert ids(db) == ["flaky", "ok"]
    assert summary.failed == 1 and summary.exit_code == EXIT_PARTIAL
    row = db.execute(
        "SELECT status, resolved_at FROM fetch_errors WHERE conversation_id = 'broken'"
    )
    assert row.fetchone() == (503, None)
    # The next run retries the failure even though the list shows nothing new.
    fake.log.clear()
    summary = run(db, fake, archived=False)
    assert ids(db) == ["broken", "flaky", "ok"]
    assert summary.exit_code == EXIT_OK
    assert [p for _, p, _ in fake.requests("/conversation/")] == [
        "/backend-api/conversation/broken"
    ]
    resolved = db.execute("SELECT resolved_at FROM fetch_errors WHERE conversation_id = 'broken'")
    assert resolved.fetchone()[0] is not None


def test_401_stops_the_run_with_a_clear_message(db, fake):
    fake.add("c1", 1_700_000_000)
    summary = run(db, fake, token="wrong-token")
    assert summary.exit_code == EXIT_CONFIG
    assert "the access token was refused (expired?)" in str(summary.aborted)
    assert ids(db) == []
    assert len(fake.log) == 1  # not retried


def test_403_challenge_page_stops_the_run(db, fake):
    fake.add("c1", 1_700_000_000)
    fake.faults["/backend-api/conversations"].append(CHALLENGE_PAGE)
    summary = run(db, fake)
    assert "blocked by a challenge page" in str(summary.aborted)
    assert summary.exit_code == EXIT_PARTIAL
    assert len(fake.log) == 1


def test_404_for_a_listed_conversation_is_recorded_and_the_run_goes_on(db, fake):
    fake.add("gone", 1_700_000_002)
    fake.add("here", 1_700_000_001)
    fake.faults["/backend-api/conversation/gone"].append(json_response({"detail": "nope"}, 404))
    summary = run(db, fake, archived=False)
    assert ids(db) == ["here"]
    assert summary.missing == 1 and summary.exit_code == EXIT_OK
    assert db.execute("SELECT status FROM fetch_errors").fetchone()[0] == 404


def test_an_interrupted_run_resumes_without_refetching(db, fake):
    for i in range(10):
        fake.add(f"c{i}", 1_700_000_000 + i)
    # The token "expires" after four conversations were fetched: the run stops there.
    original = fake.handle
    served = []

    def expiring(request):
        if "/conversation/" in request.path:
            served.append(request.path)
            if len(served) > 4:
                fake.log.append((request.method, request.path, {}))
                return json_response({"detail": "expired"}, 401)
        return original(request)

    fake.handle = expiring
    first = run(db, fake, archived=False, concurrency=1)
    assert first.exit_code == EXIT_CONFIG
    assert len(ids(db)) == 4
    assert db["sync_state"].count == 0  # no high-water mark: the walk did not complete
    fake.handle = original
    fake.log.clear()
    second = run(db, fake, archived=False)
    assert second.exit_code == EXIT_OK
    assert len(ids(db)) == 10
    assert len(fake.requests("/conversation/")) == 6  # only the ones not yet archived
    assert second.unchanged == 4


def test_full_run_marks_conversations_gone_upstream_and_never_deletes_them(db, fake):
    fake.add("stays", 1_700_000_002)
    fake.add("goes", 1_700_000_001)
    run(db, fake)
    fake.hidden_from_list.add("goes")
    summary = run(db, fake, full=True)
    assert summary.marked_deleted == 1
    rows = dict(
        db.execute("SELECT id, deleted_upstream_at IS NOT NULL FROM conversations").fetchall()
    )
    assert rows == {"stays": 0, "goes": 1}
    assert (
        db.execute("SELECT count(*) FROM messages WHERE conversation_id = 'goes'").fetchone()[0]
        == NODES_PER_CONVERSATION
    )
    fake.hidden_from_list.discard("goes")
    run(db, fake, full=True)
    assert (
        db.execute("SELECT deleted_upstream_at FROM conversations WHERE id = 'goes'").fetchone()[0]
        is None
    )


def test_timestamps_from_list_and_detail_are_both_understood(db, fake):
    fake.add("c1", 1_701_830_474.616844)
    run(db, fake, archived=False)
    row = db.execute("SELECT update_time, list_update_time FROM conversations").fetchone()
    assert row[0] == "2023-12-06T02:41:14.616844Z"  # float epoch from the detail
    assert row[1].startswith("2023-12-06T02:41:14.616")  # ISO string from the list


def test_429s_beyond_the_budget_stop_the_run_instead_of_failing_each_conversation(db, fake):
    for i in range(5):
        fake.add(f"c{i}", 1_700_000_000 + i)
    too_many = json_response(
        {"detail": "Too many requests in 1 minute."}, 429, {"Retry-After": "0"}
    )
    for i in range(5):
        fake.faults[f"/backend-api/conversation/c{i}"].extend([too_many] * FAST.max_throttles)
    summary = run(db, fake, archived=False, concurrency=1)
    assert summary.exit_code == EXIT_PARTIAL
    assert "rate limited" in str(summary.aborted)
    # One conversation used up the budget; nobody kept hammering with the others.
    assert len(fake.requests("/conversation/")) == FAST.max_throttles
    assert db["sync_state"].count == 0  # the walk did not complete: nothing advanced


def test_full_without_the_archived_list_marks_nothing_deleted(db, fake):
    fake.add("listed", 1_700_000_002)
    fake.add("archived", 1_700_000_001, archived=True)
    run(db, fake)
    summary = run(db, fake, full=True, archived=False)
    assert summary.marked_deleted == 0
    assert (
        db.execute(
            "SELECT count(*) FROM conversations WHERE deleted_upstream_at IS NOT NULL"
        ).fetchone()[0]
        == 0
    )


YEAR_2100 = 4_102_444_800.0


def export_copy_from_2100(cid: str) -> dict:
    """An export's copy of ``cid`` claiming update_time 2100, with other nodes than upstream."""
    entry = conversation(cid, update_time=YEAR_2100)
    text = json.dumps(entry).replace(f'"{cid}-', '"old-')
    return json.loads(text)


def live_nodes_marked_deleted(db, cid: str) -> int:
    return db.execute(
        "SELECT count(*) FROM messages WHERE conversation_id = ? AND id LIKE ? "
        "AND deleted_upstream_at IS NOT NULL",
        [cid, f"{cid}-%"],
    ).fetchone()[0]


def test_an_import_claiming_a_future_update_time_does_not_replace_the_live_copy(db, fake, tmp_path):
    """Issue 27: an imported update_time in 2100 made the export look newer than anything."""
    fake.add("x1", 1_700_000_000)
    run(db, fake)
    path = write_zip(tmp_path / "e.zip", [export_copy_from_2100("x1")])
    summary = import_export(db, path, jobs=1)
    assert summary.skipped_older == 1 and summary.updated == 0
    assert live_nodes_marked_deleted(db, "x1") == 0
    assert db.execute("SELECT update_time FROM conversations").fetchone()[0] < "2100"


def test_backup_full_lets_the_live_copy_win_over_a_copy_dated_in_the_future(db, fake):
    """An archive that an earlier import left holding the 2100 copy (its live nodes marked
    deleted): upstream still lists the conversation, so the live copy is fetched and wins."""
    fake.add("x1", 1_700_000_000)
    fake.add("x2", 1_700_000_001)
    run(db, fake)
    bogus = flatten_conversation(export_copy_from_2100("x1"), source="export")
    bogus.conversation["list_update_time"] = None  # as an import saves it: the list's view stays
    save_conversation(db, bogus)
    assert live_nodes_marked_deleted(db, "x1") == NODES_PER_CONVERSATION
    summary = run(db, fake, full=True)
    assert summary.updated == 1 and summary.unchanged == 1, summary.line()
    assert live_nodes_marked_deleted(db, "x1") == 0
    update_time = db.execute("SELECT update_time FROM conversations WHERE id = 'x1'").fetchone()
    assert update_time[0].startswith("2023-")
    assert run(db, fake, full=True).updated == 0  # and it stays won
