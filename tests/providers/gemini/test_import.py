"""``archiver import`` of Google Takeouts with Gemini activity, both forms, end to end through
the CLI: every entry lands once, drafts on their branch, uploads stored, other activity kept,
other products left out, and re-imports add nothing."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from archiver.cli import cli
from tests.providers.gemini import samples
from tests.providers.gemini.samples import (
    ACTIVITY,
    CHAT_A,
    CHAT_B,
    CHAT_C,
    CHAT_D,
    PROMPTS,
    Prompt,
    utc,
)

FIXTURES = Path(__file__).parent / "fixtures"


def run(db: Path, path: Path) -> Result:
    return CliRunner().invoke(cli, ["import", str(db), str(path)])


def rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def takeout(tmp_path: Path, form: str = "json", kind: str = "zip", **kwargs: Any) -> Path:
    members = samples.takeout_members(form, **kwargs)
    if kind == "zip":
        return samples.write_zip(tmp_path / f"takeout-{form}.zip", members)
    return samples.write_folder(tmp_path / f"takeout-{form}", members)


def user_rows(db: Path) -> list[tuple[Any, ...]]:
    return rows(
        db,
        "SELECT conversation_id, text, create_time FROM messages WHERE role = 'user' "
        "AND is_hidden = 0 ORDER BY create_time",
    )


def second(iso: str) -> str:
    return iso[:19]


@pytest.mark.parametrize("kind", ["zip", "folder"])
def test_json_takeout_lands_exactly(tmp_path: Path, kind: str) -> None:
    db = tmp_path / "a.db"
    result = run(db, takeout(tmp_path, "json", kind))
    assert result.exit_code == 0, result.output
    # Every prompt once, in its chat, at its time (to the millisecond).
    expected = sorted((p.time.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z", p.prompt) for p in PROMPTS)
    got = user_rows(db)
    assert sorted((t, text) for _, text, t in got) == expected
    by_prompt = {text: cid for cid, text, _ in got}
    assert by_prompt["What is a stromatolite?"] == "c_" + CHAT_A
    assert by_prompt["Quiz me on French verbs"] == "c_" + CHAT_B
    assert by_prompt["Branch this idea"] == "c_" + CHAT_C  # the first chat it names
    assert by_prompt["Remind me of the recipe"] == "c_" + CHAT_D
    # No details: less than 30 minutes apart share a conversation, a later one starts another.
    old = {by_prompt[p] for p in ("Old question one", "Old question two")}
    assert len(old) == 1 and old.pop().startswith("takeout-")
    assert by_prompt["Much later question"].startswith("takeout-")
    assert by_prompt["Much later question"] != by_prompt["Old question one"]
    # Every draft is a message; the first draft is on the current branch, the others not.
    drafts = rows(
        db,
        "SELECT m.text, m.on_current_branch FROM messages m JOIN messages u "
        "ON u.conversation_id = m.conversation_id AND u.id = m.parent_id "
        "WHERE u.text = 'And where are they?\nList three places.' ORDER BY m.position",
    )
    assert drafts == [("Shark Bay.", 1), ("- Shark Bay\n- Lake Thetis", 0)]
    assert rows(db, "SELECT count(*) FROM messages WHERE role = 'assistant'") == [
        (sum(len(p.drafts) for p in PROMPTS),)
    ]
    # Each chat is one branch in time order: the current path reads every prompt in order.
    path = rows(
        db,
        "SELECT text FROM messages WHERE conversation_id = ? AND role = 'user' "
        "AND on_current_branch = 1 ORDER BY depth",
        "c_" + CHAT_A,
    )
    assert [t for (t,) in path] == [p.prompt for p in PROMPTS if p.chats == [CHAT_A]]
    # Uploads: attachment rows, bytes in the file store.
    stored = rows(
        db,
        "SELECT a.file_name, a.sha256, a.download_status FROM attachments a "
        "JOIN messages m ON m.conversation_id = a.conversation_id AND m.id = a.message_node_id "
        "ORDER BY a.file_name",
    )
    assert stored == [
        (
            f"{samples.FOLDER}/{samples.CAT}",
            hashlib.sha256(samples.CAT_BYTES).hexdigest(),
            "stored",
        ),
        (
            f"{samples.FOLDER}/{samples.PHOTO}",
            hashlib.sha256(samples.PHOTO_BYTES).hexdigest(),
            "stored",
        ),
    ]
    # The Gem, recorded.
    assert rows(db, "SELECT id, provider, name FROM projects") == [
        ("1a2b3c4d5e6f", "gemini", "Tutor")
    ]
    assert rows(db, "SELECT gizmo_id FROM conversations WHERE id = ?", "c_" + CHAT_B) == [
        ("1a2b3c4d5e6f",)
    ]
    # Other activity, kept whole, not as messages; other products left out.
    kept = [json.loads(c) for (c,) in rows(db, "SELECT content FROM export_files ORDER BY name")]
    assert sorted(k["title"] for k in kept) == sorted(a.title for a in ACTIVITY)
    assert rows(db, "SELECT count(*) FROM conversations WHERE provider != 'gemini'") == [(0,)]
    assert not rows(db, "SELECT 1 FROM messages WHERE text LIKE '%Searched for%'")
    assert "entries 12, matched 0, activity 4, gems 1, other_products 3" in result.output


def test_reimport_adds_nothing_and_a_newer_takeout_adds_only_what_is_new(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    assert run(db, takeout(tmp_path)).exit_code == 0
    before = rows(db, "SELECT pk, conversation_id, id, text FROM messages ORDER BY pk")
    again = run(db, takeout(tmp_path))
    assert again.exit_code == 0, again.output
    assert "new 0, updated 0" in again.output and "activity 0, gems 0" in again.output
    assert rows(db, "SELECT pk, conversation_id, id, text FROM messages ORDER BY pk") == before
    assert rows(db, "SELECT count(*) FROM export_files") == [(len(ACTIVITY),)]
    # A newer Takeout: everything again plus one prompt in chat A and one in a new chat.
    newer = [
        *PROMPTS,
        Prompt(utc(2026, 9, 1, 10, 0, 0), "One more thing", ["<p>Sure.</p>"], [samples.CHAT_A]),
        Prompt(utc(2026, 9, 2, 10, 0, 0), "A new chat", ["<p>Hello.</p>"], ["e0e1e2e3e4e5e6e7"]),
    ]
    (tmp_path / "newer").mkdir()
    result = run(db, takeout(tmp_path / "newer", prompts=newer))
    assert result.exit_code == 0, result.output
    after = rows(db, "SELECT pk, conversation_id, id, text FROM messages ORDER BY pk")
    assert after[: len(before)] == before
    assert sorted(r[3] for r in after[len(before) :]) == [
        "A new chat",
        "Hello.",
        "One more thing",
        "Sure.",
    ]


def test_html_form_lands_the_same_entries(tmp_path: Path) -> None:
    json_db, html_db = tmp_path / "json.db", tmp_path / "html.db"
    assert run(json_db, takeout(tmp_path, "json")).exit_code == 0
    result = run(html_db, takeout(tmp_path, "html"))
    assert result.exit_code == 0, result.output
    from_json = {(cid, second(t)) for cid, _, t in user_rows(json_db)}
    from_html = {(cid, second(t)) for cid, _, t in user_rows(html_db)}
    assert from_html == from_json  # same chats, same UTC times (to the second)
    texts = {text for _, text, _ in user_rows(html_db)}
    assert "And where are they?\nList three places." in texts  # newlines kept
    assert "Is 3 < 5 && \"x\" > 'y'? 🙂" in texts  # HTML entities decoded once
    assert "IMG_0001.jpg" in texts  # an image-only prompt shows the file's name in HTML
    # One assistant message per entry holding every draft's text.
    [(regenerated,)] = rows(
        html_db,
        "SELECT m.text FROM messages m JOIN messages u ON u.conversation_id = m.conversation_id "
        "AND u.id = m.parent_id WHERE u.text LIKE 'And where are they?%'",
    )
    assert "Shark Bay." in regenerated and "Lake Thetis" in regenerated
    assert rows(html_db, "SELECT count(*) FROM attachments WHERE download_status = 'stored'") == [
        (2,)
    ]
    assert rows(html_db, "SELECT name FROM projects") == [("Tutor",)]
    assert "entries 12, matched 0, activity 4" in result.output


def test_en_gb_html_times(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    result = run(db, takeout(tmp_path, "html", clock=samples.gb_time))
    assert result.exit_code == 0, result.output
    assert {second(t) for _, _, t in user_rows(db)} == {p.time.isoformat()[:19] for p in PROMPTS}


def test_html_then_json_of_one_export_adds_no_duplicates(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    assert run(db, takeout(tmp_path, "html")).exit_code == 0
    result = run(db, takeout(tmp_path, "json"))
    assert result.exit_code == 0, result.output
    assert len(user_rows(db)) == len(PROMPTS)
    # The JSON form replaced the HTML one (it says more): the drafts are apart again.
    assert rows(
        db, "SELECT count(*) FROM messages WHERE role = 'assistant' AND deleted_upstream_at IS NULL"
    ) == [(sum(len(p.drafts) for p in PROMPTS),)]


def test_real_2026_html_excerpt(tmp_path: Path) -> None:
    folder = tmp_path / "Takeout" / "My Activity" / "Gemini Apps"
    folder.mkdir(parents=True)
    (folder / "MyActivity.html").write_bytes((FIXTURES / "music_guide_excerpt.html").read_bytes())
    db = tmp_path / "a.db"
    result = run(db, tmp_path / "Takeout")
    assert result.exit_code == 0, result.output
    assert [(cid, t) for cid, _, t in user_rows(db)] == [
        ("c_3aad65af3212fd0a", "2026-08-01T11:34:15.000000Z"),
        ("c_995a37b426489105", "2026-08-02T20:24:08.000000Z"),
        ("c_8f60459ed7eee35e", "2026-08-08T16:39:27.000000Z"),
    ]
    answers = rows(db, "SELECT conversation_id, text FROM messages WHERE role = 'assistant'")
    assert {cid for cid, _ in answers} == {
        "c_3aad65af3212fd0a",
        "c_8f60459ed7eee35e",
    }  # one was empty
    text = dict(answers)["c_8f60459ed7eee35e"]
    assert text.startswith("The organisms you are thinking of are cyanobacteria")
    assert "- The First Photosynthesizers:" in text and "&quot;" not in text
    raw = rows(
        db,
        "SELECT raw_json FROM messages WHERE role = 'assistant' AND conversation_id = ?",
        "c_8f60459ed7eee35e",
    )
    assert "<strong>cyanobacteria</strong>" in json.loads(raw[0][0])["takeout_draft"]["html"]


def test_a_takeout_without_gemini_is_refused_by_name(tmp_path: Path) -> None:
    members = {k: v for k, v in samples.OTHER_PRODUCTS.items()}
    result = run(tmp_path / "a.db", samples.write_zip(tmp_path / "t.zip", members))
    assert result.exit_code == 3, result.output
    assert (
        "no Gemini Apps activity in this Takeout (found Search (2), YouTube (1))" in result.output
    )
    assert "Traceback" not in result.output


def test_html_in_an_unknown_language_is_reported_and_the_rest_imports(tmp_path: Path) -> None:
    good = samples.prompt_cell(PROMPTS[0])
    portuguese = samples.cell(
        "Gemini Apps",
        "Prompted&nbsp;Uma pergunta<br>10 de mai. de 2026, 03:46:09 BRT<br><p>Resposta</p><br>",
        chats=[CHAT_B],
    )
    japanese = samples.cell(
        "Gemini アプリ",
        "送信したメッセージ: これは作り話です<br>Jul 16, 2026, 1:02:03 PM JST<br><p>作り話</p><br>",
    )
    folder = tmp_path / "Takeout" / "My Activity" / "Gemini Apps"
    folder.mkdir(parents=True)
    (folder / "MyActivity.html").write_text(samples.page([good, portuguese, japanese]))
    db = tmp_path / "a.db"
    result = run(db, tmp_path / "Takeout")
    assert result.exit_code == 3, result.output
    assert (
        "a time in a form archiver does not read: '10 de mai. de 2026, 03:46:09 BRT'"
        in result.output
    )
    assert "a Gemini entry in a language or layout archiver does not read" in result.output
    assert [text for _, text, _ in user_rows(db)] == ["What is a stromatolite?"]


def test_an_unknown_layout_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "Takeout" / "My Activity" / "Gemini Apps"
    folder.mkdir(parents=True)
    (folder / "MyActivity.html").write_text(
        "<html><head><title>My Activity</title><style>/* material-design-lite */</style></head>"
        "<body><table><tr><td>Prompted hi</td></tr></table></body></html>"
    )
    result = run(tmp_path / "a.db", tmp_path / "Takeout")
    assert result.exit_code == 3, result.output
    assert "an activity page in a layout archiver does not read" in result.output


def test_truncated_json_imports_the_entries_before_the_cut(tmp_path: Path) -> None:
    data = samples.json_activity()
    cut = data[: data.index(b"Old question two")]  # newest first: the older entries are cut off
    members = {**samples.takeout_members("json"), f"{samples.FOLDER}/MyActivity.json": cut}
    db = tmp_path / "a.db"
    result = run(db, samples.write_zip(tmp_path / "t.zip", members))
    assert result.exit_code == 3, result.output
    assert "truncated or invalid JSON after" in result.output
    texts = {text for _, text, _ in user_rows(db)}
    assert "Much later question" in texts and "Old question one" not in texts


def test_gap_groups_keep_their_id_when_a_newer_takeout_extends_them(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    assert run(db, takeout(tmp_path)).exit_code == 0
    [(group,)] = rows(db, "SELECT conversation_id FROM messages WHERE text = 'Old question two'")
    later = Prompt(utc(2025, 3, 1, 9, 20, 0), "Old question three", ["<p>Three.</p>"])
    (tmp_path / "newer").mkdir()
    assert run(db, takeout(tmp_path / "newer", prompts=[*PROMPTS, later])).exit_code == 0
    assert rows(db, "SELECT conversation_id FROM messages WHERE text = 'Old question three'") == [
        (group,)
    ]
