"""The bulk fill of the full-text index (store.fts): rows loaded under the mark are indexed
once at the end, rows indexed before keep their triggers, a crash leaves a mark the next run
finishes, and the index always equals the content."""

from __future__ import annotations

import operator

from archiver.flatten.records import MESSAGE_COLUMNS
from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.store import open_db
from archiver.store.bulk import BulkSaver
from archiver.store.fts import finish_bulk_index, pending_since, repair_index, start_bulk_index
from archiver.store.save import save_conversation
from tests.support.archive_snapshot import index_complete
from tests.support.export_helpers import conversation

values = operator.itemgetter(*MESSAGE_COLUMNS)


def flat(cid, **kwargs):
    return flatten_conversation(conversation(cid, **kwargs), source="export")


def hits(db, word):
    return sorted(
        row[0]
        for row in db.execute(
            "SELECT m.conversation_id FROM messages_fts JOIN messages m ON m.pk = messages_fts.rowid "
            "WHERE messages_fts MATCH ?",
            [word],
        )
    )


def save_bulk(db, *flats):
    with BulkSaver(db, batch=2) as saver:
        for f in flats:
            saver.save(f.conversation, [values(r) for r in f.messages], f.attachments)


def test_a_bulk_load_is_indexed_once_at_the_end(tmp_path):
    path = tmp_path / "a.db"
    db = open_db(path)
    save_conversation(db, flatten_conversation(conversation("live", answer="Walrus answer.")))
    save_bulk(db, flat("c1", answer="Walrus one."), flat("c2"), flat("c3", answer="Walrus three."))
    assert pending_since(db) is None
    assert hits(db, "walrus") == ["c1", "c3", "live"]
    assert index_complete(path)


def test_rows_indexed_before_the_mark_are_updated_by_the_triggers(tmp_path):
    path = tmp_path / "a.db"
    db = open_db(path)
    save_conversation(db, flat("c1", answer="Old otter."))
    with BulkSaver(db) as saver:
        newer = flat("c1", update_time=1781830474.5, answer="New heron.")
        saver.save(newer.conversation, [values(r) for r in newer.messages], [])
        again = flat("c2", answer="Heron too.")
        saver.save(again.conversation, [values(r) for r in again.messages], [])
    assert hits(db, "otter") == [] and hits(db, "heron") == ["c1", "c2"]
    assert index_complete(path)


def test_a_mark_left_by_a_crash_is_finished_by_the_next_run(tmp_path):
    path = tmp_path / "a.db"
    db = open_db(path)
    db.conn.execute("BEGIN IMMEDIATE")
    start_bulk_index(db.conn)
    db.conn.execute("COMMIT")
    f = flat("c1", answer="Crashed lynx.")
    save_conversation(db, f)  # triggers skip rows under the mark, as in the killed import
    assert hits(db, "lynx") == []
    assert repair_index(db) == 4
    assert hits(db, "lynx") == ["c1"] and index_complete(path)
    assert repair_index(db) == 0 and finish_bulk_index(db) == 0


def test_an_import_that_writes_nothing_leaves_no_mark(tmp_path):
    db = open_db(tmp_path / "a.db")
    save_bulk(db, flat("c1"))
    before = db.conn.total_changes
    save_bulk(db, flat("c1"))
    assert db.conn.total_changes == before


def test_indexing_while_idle_moves_the_mark_and_a_crash_after_it_is_repaired(tmp_path):
    path = tmp_path / "a.db"
    db = open_db(path)
    saver = BulkSaver(db, batch=100).__enter__()
    for cid in ("c1", "c2"):
        f = flat(cid, answer=f"Idle {cid}.")
        saver.save(f.conversation, [values(r) for r in f.messages], [])
    assert saver.index_while_idle(rows=5)  # c1's 4 rows and one of c2's
    assert saver.index_while_idle(rows=5) and not saver.index_while_idle(rows=5)
    f = flat("c3", answer="Idle c3.")
    saver.save(f.conversation, [values(r) for r in f.messages], [])
    saver.commit()  # then killed: no finish
    assert hits(db, "idle") == ["c1", "c2"]
    assert repair_index(db) == 4  # only what was not indexed yet
    assert hits(db, "idle") == ["c1", "c2", "c3"] and index_complete(path)


def schema_of(db):
    return sorted(db.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"))


def test_the_insert_trigger_is_dropped_under_the_mark_and_restored_exactly(tmp_path):
    fresh = schema_of(open_db(tmp_path / "fresh.db"))
    db = open_db(tmp_path / "a.db")
    db.conn.execute("BEGIN IMMEDIATE")
    start_bulk_index(db.conn)
    db.conn.execute("COMMIT")  # then killed, as a crashed import leaves it
    assert "messages_ai" not in {name for _, name, _ in schema_of(db)}
    save_conversation(db, flat("c1", answer="Restored ibis."))
    assert repair_index(db) == 4
    assert schema_of(db) == fresh  # the trigger is back, word for word
    save_conversation(db, flat("c2", answer="Later ibis."))  # indexed by the trigger again
    assert hits(db, "ibis") == ["c1", "c2"] and index_complete(tmp_path / "a.db")


def test_a_conversation_that_fails_after_making_the_mark_takes_it_back(tmp_path):
    path = tmp_path / "a.db"
    db = open_db(path)
    fresh = schema_of(open_db(tmp_path / "fresh.db"))
    good = flat("c2", answer="Kept gull.")
    bad = flat("c1")
    bad_values = [values(r) for r in bad.messages]
    bad_values.append(bad_values[0])  # the same node twice: the UNIQUE constraint refuses it
    with BulkSaver(db) as saver:
        try:
            saver.save(bad.conversation, bad_values, [])
        except Exception:
            pass
        else:
            raise AssertionError("the duplicate node was accepted")
        assert pending_since(db) is None
        saver.save(good.conversation, [values(r) for r in good.messages], [])
    assert schema_of(db) == fresh
    assert hits(db, "gull") == ["c2"] and index_complete(path)


def test_a_trigger_gone_without_a_mark_is_restored_and_the_index_rebuilt(tmp_path):
    path = tmp_path / "a.db"
    fresh = schema_of(open_db(tmp_path / "fresh.db"))
    db = open_db(path)
    db.conn.execute("DROP TRIGGER messages_ai")  # as if the mark had been deleted by hand
    save_conversation(db, flat("c1", answer="Orphan wren."))
    assert hits(db, "wren") == []
    assert repair_index(db) == 4
    assert schema_of(db) == fresh and hits(db, "wren") == ["c1"] and index_complete(path)
    assert repair_index(db) == 0
