"""The viewer under attack (issue #26): archived content never runs, files never render from
the viewer's origin, and no other site can read the archive through it (DNS rebinding, a
foreign Origin, CORS)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from archiver.serve.keys import add_key
from archiver.store import open_db
from tests.support.gateway import Reply, RunningGateway, http, running_gateway
from tests.support.hostile import REMOTE_IMAGE, audit_html, save_hostile
from tests.support.sample_archive import BRANCHED_ID, archive_path

__all__ = ["archive_path"]

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'


def get(gw: RunningGateway, path: str, **kwargs: object) -> Reply:
    return http("GET", gw.base_url + path, **kwargs)  # type: ignore[arg-type]


def directives(header: str) -> dict[str, str]:
    found = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            found[name] = value
    return found


@pytest.fixture
def hostile_viewer(archive_path: Path):
    db = open_db(archive_path)
    cid = save_hostile(db)
    files = archive_path.parent / "extracted"
    files.mkdir()
    (files / "pic.png").write_bytes(PNG)
    (files / "evil.svg").write_bytes(SVG)
    (files / "page.html").write_bytes(b"<script>alert(3)</script>")
    for pointer, name, kind in (
        ("file-service://file-png", "pic.png", "image/png"),
        ("file-service://file-svg", "evil.svg", "image/svg+xml"),
        ("file-service://file-html", "page.html", "image/png"),  # an HTML file posing as PNG
    ):
        db.execute(
            "INSERT INTO attachments (conversation_id, message_node_id, asset_pointer, "
            "file_name, mime_type, extracted_path) VALUES (?, 'm1', ?, ?, ?, ?)",
            [cid, pointer, name, kind, str(files / name)],
        )
        # The message points at the file, as an image.
        raw = db.execute(
            "SELECT raw_json FROM messages WHERE conversation_id = ? AND id = 'm1'", [cid]
        ).fetchone()[0]
        message = json.loads(raw)
        part = {"content_type": "image_asset_pointer", "asset_pointer": pointer}
        message["content"]["parts"].insert(0, part)
        db.execute(
            "UPDATE messages SET raw_json = ? WHERE conversation_id = ? AND id = 'm1'",
            [json.dumps(message), cid],
        )
    db.conn.close()
    with running_gateway(archive_path, None) as running:
        yield running, cid


# --- archived content never runs -------------------------------------------------------------


def test_a_hostile_conversation_has_nothing_live_in_the_viewer(hostile_viewer) -> None:
    gw, cid = hostile_viewer
    for path in (f"/c/{cid}", f"/c/{cid}?node=m1", f"/c/{cid}?node=u1", "/?q=alert"):
        page = get(gw, path)
        assert page.status == 200
        assert audit_html(page.text, own_scripts=("/static/viewer.js",)) == [], path
    html = get(gw, f"/c/{cid}").text
    assert "&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;" in html
    assert f'href="{REMOTE_IMAGE}"' in html and f'src="{REMOTE_IMAGE}"' not in html


def test_every_viewer_page_carries_a_strict_csp(hostile_viewer) -> None:
    gw, cid = hostile_viewer
    for path in ("/", f"/c/{cid}", "/login", "/c/nope", "/nowhere"):
        reply = get(gw, path)
        policy = directives(reply.headers["Content-Security-Policy"])
        assert policy["default-src"] == "'none'", path
        assert policy["script-src"] == "'self'", path  # /static/viewer.js; nothing inline
        assert policy["img-src"].split() == ["'self'", "data:"], path
        assert policy["frame-ancestors"] == "'none'", path
        assert "'unsafe-inline'" not in reply.headers["Content-Security-Policy"]
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["Referrer-Policy"] == "no-referrer"
    # The page's inline stylesheet is the one the policy's hash allows.
    page = get(gw, f"/c/{cid}")
    style = re.search(r"<style>(.*?)</style>", page.text, re.S)
    assert style is not None
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(style[1].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in page.headers["Content-Security-Policy"]


def test_only_raster_images_are_served_inline(hostile_viewer) -> None:
    gw, cid = hostile_viewer
    page = get(gw, f"/c/{cid}").text
    images = re.findall(r'<img [^>]*src="([^"]+)"', page)
    files = sorted(set(re.findall(rf'href="(/file/{cid}/\d+)"', page)))
    assert len(files) == 3 and len(images) == 2, (files, images)  # never the SVG inline
    replies = {}
    for url in files:
        reply = get(gw, url)
        assert reply.status == 200
        replies[reply.body] = (url, reply)
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert directives(reply.headers["Content-Security-Policy"]).get("sandbox") == ""
    png_url, png = replies[PNG]
    svg_url, svg = replies[SVG]
    assert png.headers["Content-Type"] == "image/png" and png_url in images
    assert "attachment" not in (png.headers.get("Content-Disposition") or "")
    assert svg.headers["Content-Type"] == "application/octet-stream"
    assert svg.headers["Content-Disposition"] == 'attachment; filename="evil.svg"'
    assert svg_url not in images  # linked as a download, not shown
    assert get(gw, f"/file/{cid}/999").status == 404


# --- no other site may read the archive ------------------------------------------------------


def test_a_foreign_host_gets_no_page(archive_path: Path) -> None:
    with running_gateway(archive_path, None) as gw:  # 127.0.0.1, no key needed
        port = gw.base_url.rsplit(":", 1)[1]
        for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", ""):
            for path in ("/", f"/c/{BRANCHED_ID}", "/static/viewer.js", "/conversations"):
                refused = get(gw, path, headers={"Host": host})
                assert refused.status == 403, (host, path)
                assert "Edits and regenerations" not in refused.text
                assert "text/html" not in refused.headers.get("Content-Type", "")
        for host in (f"127.0.0.1:{port}", "127.0.0.1", f"localhost:{port}", "LOCALHOST", "[::1]"):
            assert get(gw, "/", headers={"Host": host}).status == 200, host
    with running_gateway(archive_path, None, allowed_hosts=("archive.lan",)) as gw:
        assert get(gw, "/", headers={"Host": "archive.lan:8000"}).status == 200
        assert get(gw, "/", headers={"Host": "evil.example"}).status == 403


def test_a_named_address_answers_only_to_itself(archive_path: Path) -> None:
    db = open_db(archive_path)
    key = add_key(db, "reader")
    db.close()
    with running_gateway(archive_path, None, host="192.0.2.10") as gw:
        assert get(gw, "/conversations", key=key, headers={"Host": "192.0.2.10"}).status == 200
        assert get(gw, "/conversations", key=key, headers={"Host": "evil.example"}).status == 403
        assert get(gw, "/conversations", key=key).status == 403  # 127.0.0.1 is not its address
    with running_gateway(archive_path, None, host="0.0.0.0") as gw:  # every address: any IP
        assert get(gw, "/conversations", key=key, headers={"Host": "192.0.2.99"}).status == 200
        assert get(gw, "/conversations", key=key, headers={"Host": "evil.example"}).status == 403


def test_state_changing_requests_from_a_foreign_origin_are_refused(archive_path: Path) -> None:
    db = open_db(archive_path)
    key = add_key(db, "reader")
    db.close()
    with running_gateway(archive_path, None, host="192.0.2.10") as gw:
        host = {"Host": "192.0.2.10"}
        form = f"key={key}".encode()
        for origin in ("http://evil.example", "null", "http://192.0.2.10.evil.example"):
            refused = http(
                "POST", gw.base_url + "/login", data=form, headers={**host, "Origin": origin}
            )
            assert refused.status == 403 and "Set-Cookie" not in refused.headers, origin
            api = http(
                "POST",
                gw.base_url + "/conversations/new",
                key=key,
                json_body={"prompt": "hi"},
                headers={**host, "Origin": origin},
            )
            assert api.status == 403, origin
        same = http(
            "POST",
            gw.base_url + "/login",
            data=form,
            headers={**host, "Origin": "http://192.0.2.10"},
        )
        assert same.status == 303
        no_origin = http("POST", gw.base_url + "/login", data=form, headers=host)
        assert no_origin.status == 303  # curl, scripts and the SDKs send none
        # Reading is not state-changing: a GET with a foreign Origin is answered (CORS, not
        # this check, keeps its answer from the other page's scripts).
        assert get(gw, "/login", headers={**host, "Origin": "http://evil.example"}).status == 200


def test_cors_opens_the_api_only_never_the_viewer(archive_path: Path) -> None:
    db = open_db(archive_path)
    key = add_key(db, "app")
    db.close()
    origin = "https://app.example"
    with running_gateway(archive_path, None, cors_origin=origin) as gw:
        api = get(gw, "/conversations", key=key, headers={"Origin": origin})
        assert api.status == 200 and api.headers["Access-Control-Allow-Origin"] == origin
        for path in ("/", f"/c/{BRANCHED_ID}", "/static/viewer.js", "/login"):
            page = get(gw, path, headers={"Origin": origin})
            assert "Access-Control-Allow-Origin" not in page.headers, path
            preflight = http(
                "OPTIONS",
                gw.base_url + path,
                headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
            )
            assert "Access-Control-Allow-Origin" not in preflight.headers, path
        preflight = http(
            "OPTIONS",
            gw.base_url + "/v1/chat/completions",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.headers["Access-Control-Allow-Origin"] == origin
        # The configured origin may also change state through the API.
        posted = http(
            "POST",
            gw.base_url + "/conversations/new",
            key=key,
            json_body={"prompt": "hi"},
            headers={"Origin": origin},
        )
        assert posted.status != 403


def test_viewer_errors_are_html_pages(archive_path: Path) -> None:
    with running_gateway(archive_path, None) as gw:
        for path in ("/c/nope", "/file/nope/0", f"/file/{BRANCHED_ID}/x", "/?offset=-1"):
            reply = get(gw, path)
            assert reply.status in (400, 404), path
            assert reply.headers["Content-Type"].startswith("text/html"), path
            assert "<h1>" in reply.text and "{" not in reply.text.split("<body>")[1][:200]
        # An archived id in the message is escaped.
        reply = get(gw, "/c/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        assert reply.status == 404 and "<script>alert" not in reply.text
        assert html.escape("<script>") in reply.text
        # The API keeps its JSON.
        assert get(gw, "/conversations").headers["Content-Type"].startswith("application/json")


def test_a_prompt_sent_through_the_gateway_is_inert_in_the_viewer(gw, keys) -> None:
    prompt = "Look: [here](\u0001javascript:alert(1)) and [there](java\nscript:alert(2))"
    answer = http(
        "POST",
        gw.base_url + "/v1/chat/completions",
        key=keys.user,
        json_body={"model": "auto", "messages": [{"role": "user", "content": prompt}]},
    )
    assert answer.status == 200
    cid = answer.json()["archiver"]["conversation_id"]
    page = get(gw, f"/c/{cid}").text
    assert "alert(1)" in page  # shown, as text
    assert audit_html(page, own_scripts=("/static/viewer.js",)) == []
