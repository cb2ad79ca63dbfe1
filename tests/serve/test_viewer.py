"""The viewer: the list, one conversation on its current branch with branch switchers, and
sign-in when the gateway is not on a loopback address."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archiver.serve.keys import add_key, revoke_key
from archiver.store import open_db
from tests.support.fakes import fake_config
from tests.support.gateway import Reply, RunningGateway, http, running_gateway
from tests.support.sample_archive import BING_ID, BRANCHED_ID, archive_path

__all__ = ["archive_path"]


def get(gw: RunningGateway, path: str, **kwargs: object) -> Reply:
    return http("GET", gw.base_url + path, **kwargs)  # type: ignore[arg-type]


def sections(page: str) -> list[str]:
    """The node ids of the messages shown, in order (not those behind the hidden switch)."""
    found = re.findall(r'<section class="(message [^"]*)" id="([^"]+)"', page)
    return [node for classes, node in found if "hidden-message" not in classes.split()]


def hidden_sections(page: str) -> list[str]:
    return re.findall(r'<section class="message [^"]*hidden-message[^"]*" id="([^"]+)"', page)


@pytest.fixture
def viewer(archive_path: Path):
    with running_gateway(archive_path, None) as running:  # no account: read-only
        yield running


def test_list_shows_every_conversation_and_searches(viewer: RunningGateway) -> None:
    page = get(viewer, "/")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Edits and regenerations" in page.text and "Eiffel tower" in page.text
    assert f'href="/c/{BRANCHED_ID}"' in page.text
    found = get(viewer, "/?q=regenerated").text
    assert "Edits and regenerations" in found and "Eiffel tower" not in found
    only_bing = get(viewer, "/?provider=bing").text
    assert "Eiffel tower" in only_bing and "Edits and regenerations" not in only_bing
    # An odd query is searched literally, not a 500.
    assert get(viewer, '/?q="unbalanced').status == 200


def test_conversation_shows_the_current_branch_with_switchers(viewer: RunningGateway) -> None:
    page = get(viewer, f"/c/{BRANCHED_ID}").text
    assert sections(page) == ["n-u2", "n-a2"]  # the system message is not shown
    assert hidden_sections(page) == ["n-sys"]  # but there, behind the switch
    assert 'id="show-hidden"' in page
    assert "What is a B+ tree? (edited)" in page and "What is a B-tree?" not in page
    # The edited prompt has a sibling: a switcher saying 2 / 2, whose arrow leads to 1 / 2.
    switchers = re.findall(r'data-branch="([^"]+)"', page)
    assert switchers == ["2/2"]
    assert f'href="/c/{BRANCHED_ID}?node=n-u1"' in page
    other = get(viewer, f"/c/{BRANCHED_ID}?node=n-u1").text
    assert sections(other) == ["n-u1", "n-a1b"]  # then the newest answer under it
    assert re.findall(r'data-branch="([^"]+)"', other) == ["1/2", "2/2"]
    assert "back to the current branch" in other
    first_answer = get(viewer, f"/c/{BRANCHED_ID}?node=n-a1").text
    assert sections(first_answer) == ["n-u1", "n-a1"]


def test_text_is_escaped_and_flat_chats_have_no_switchers(viewer: RunningGateway) -> None:
    page = get(viewer, "/c/" + BING_ID.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E"))
    assert page.status == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert "data-branch" not in page.text
    assert len(sections(page.text)) == 4


def test_unknown_conversation_and_static_files(viewer: RunningGateway) -> None:
    assert get(viewer, "/c/nope").status == 404
    assert get(viewer, "/static/viewer.js").status == 200
    assert get(viewer, "/static/viewer.css").headers["Content-Type"].startswith("text/css")
    assert get(viewer, "/static/../keys.py").status == 404


def test_away_from_loopback_every_route_needs_a_key(archive_path: Path) -> None:
    db = open_db(archive_path)
    key = add_key(db, "reader")
    with running_gateway(archive_path, None, host="0.0.0.0") as gw:
        for path in ("/", f"/c/{BRANCHED_ID}"):
            refused = get(gw, path)
            assert refused.status == 303 and refused.headers["Location"] == "/login"
        assert get(gw, "/conversations").status == 401
        login = get(gw, "/login")
        assert login.status == 200 and 'type="password"' in login.text
        assert get(gw, "/static/viewer.css").status == 200  # the login page's stylesheet
        wrong = http("POST", gw.base_url + "/login", data=b"key=ak_wrong")
        assert wrong.status == 401 and "Set-Cookie" not in wrong.headers
        signed_in = http("POST", gw.base_url + "/login", data=f"key={key}".encode())
        assert signed_in.status == 303
        cookie = signed_in.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert key not in cookie  # a session token, not the key
        session = {"Cookie": cookie.split(";", 1)[0]}
        page = get(gw, f"/c/{BRANCHED_ID}", headers=session)
        assert page.status == 200 and "data-branch" in page.text
        assert "Sign out" in get(gw, "/", headers=session).text
        # The cookie opens the viewer only, never the API.
        assert get(gw, "/conversations", headers=session).status == 401
        # A key in the header works for the viewer too (scripts).
        assert get(gw, "/", key=key).status == 200
        # Revoking the key ends its viewer sessions.
        revoke_key(db, "reader")
        assert get(gw, "/", headers=session).status == 303
    db.close()


def test_sign_out_ends_the_session(archive_path: Path) -> None:
    db = open_db(archive_path)
    key = add_key(db, "reader")
    db.close()
    # Bound to 192.0.2.10 in policy, reached as 127.0.0.1: a name it must be told it answers to.
    with running_gateway(archive_path, None, host="192.0.2.10", allowed_hosts=("127.0.0.1",)) as gw:
        signed_in = http("POST", gw.base_url + "/login", data=f"key={key}".encode())
        session = {"Cookie": signed_in.headers["Set-Cookie"].split(";", 1)[0]}
        assert get(gw, "/", headers=session).status == 200
        out = http("POST", gw.base_url + "/logout", headers=session)
        assert out.status == 303
        assert get(gw, "/", headers=session).status == 303


def test_on_loopback_the_viewer_needs_no_key_but_the_api_does(viewer: RunningGateway) -> None:
    assert get(viewer, "/").status == 200
    assert get(viewer, "/conversations").status == 401


def test_images_a_backup_stored_are_shown_inline(tmp_path: Path) -> None:
    import hashlib

    from archiver.emulator import running_emulator
    from tests.providers.copilot.test_images import run as backup_copilot

    db_path = tmp_path / "a.db"
    with running_emulator(
        fake_config(copilot_chats=30, chatgpt_conversations=0, bing_chats=0)
    ) as emu:
        assert backup_copilot(emu, open_db(db_path)).exit_code == 0
    stored = (
        open_db(db_path)
        .execute("SELECT conversation_id, sha256 FROM attachments WHERE download_status = 'stored'")
        .fetchall()
    )
    assert stored
    cid, sha256 = stored[0]
    with running_gateway(db_path, None) as gw:
        page = get(gw, f"/c/{cid}").text
        sources = re.findall(r'<img [^>]*src="(/file/[^"]+)"', page)
        assert sources, "a stored image is shown inline"
        images = [get(gw, src) for src in sources]
        assert all(i.status == 200 and i.headers["Content-Type"] == "image/png" for i in images)
        digests = {hashlib.sha256(i.body).hexdigest() for i in images}
        assert sha256 in digests  # the very bytes of the file store
        assert get(gw, f"/file/{cid}/999").status == 404


def test_the_viewer_lays_out_right_to_left_text_and_local_times(
    archive_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The viewer's conversation page, like the HTML export, lets every text block take its
    own direction and shows times readable, with the exact value kept in the attribute."""
    import time

    monkeypatch.setenv("TZ", "Asia/Kolkata")  # +05:30 all year
    time.tzset()
    arabic = "مرحبا بالعالم"
    exact = "2023-12-06T10:00:03.123456Z"
    db = open_db(archive_path)
    db.execute(
        "UPDATE messages SET text = ?, create_time = ?, raw_json = json_set(raw_json, "
        "'$.content.parts[0]', ?) WHERE id = 'n-a2'",
        [f"{arabic}\n\nAn English paragraph.", exact, f"{arabic}\n\nAn English paragraph."],
    )
    db.conn.commit()
    db.conn.close()
    try:
        with running_gateway(archive_path, None) as viewer:
            page = get(viewer, f"/c/{BRANCHED_ID}").text
    finally:
        monkeypatch.undo()
        time.tzset()
    assert re.search(rf'<p dir="auto">{arabic}</p>', page)
    assert '<p dir="auto">An English paragraph.</p>' in page
    assert f'<time datetime="{exact}" title="{exact}">2023-12-06 15:30 IST</time>' in page
