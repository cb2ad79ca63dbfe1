"""``archiver keys add|list|revoke`` and what the gateway does with keys."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from archiver.cli import cli
from archiver.emulator import RunningEmulator
from archiver.errors import EXIT_CONFIG
from tests.support.gateway import http, running_gateway


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_add_prints_the_key_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    added = run("keys", "add", db, "laptop")
    assert added.exit_code == 0, added.output
    key = added.stdout.strip()
    assert key.startswith("ak_") and len(key) > 40
    assert "not kept" in added.stderr and key not in added.stderr
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT name, key_sha256, is_admin FROM api_keys").fetchall()
    assert stored == [("laptop", hashlib.sha256(key.encode()).hexdigest(), 0)]
    # The key itself is nowhere in the archive's files.
    for file in tmp_path.iterdir():
        assert key.encode() not in file.read_bytes(), file
    listed = run("keys", "list", db)
    assert listed.exit_code == 0
    assert "laptop\tuser\tactive" in listed.stdout and key not in listed.output
    admin = run("keys", "add", db, "ops", "--admin")
    assert admin.exit_code == 0 and admin.stdout.strip() != key
    assert "ops\tadmin\tactive" in run("keys", "list", db).stdout


def test_names_are_checked(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    assert run("keys", "add", db, "laptop").exit_code == 0
    again = run("keys", "add", db, "laptop")
    assert again.exit_code == EXIT_CONFIG and "exists already" in again.output
    odd = run("keys", "add", db, "has space")
    assert odd.exit_code == EXIT_CONFIG and "Traceback" not in odd.output
    missing = run("keys", "revoke", db, "nobody")
    assert missing.exit_code == EXIT_CONFIG and "no key named" in missing.output


def test_revoke_refuses_the_key_on_a_running_gateway(tmp_path: Path, emu: RunningEmulator) -> None:
    db = tmp_path / "k.db"
    key = run("keys", "add", db, "phone").stdout.strip()
    with running_gateway(db, emu) as gw:
        assert http("GET", gw.base_url + "/v1/models", key=key).status == 200
        revoked = run("keys", "revoke", db, "phone")
        assert revoked.exit_code == 0, revoked.output
        refused = http("GET", gw.base_url + "/v1/models", key=key)
        assert refused.status == 401
        assert refused.json()["error"]["code"] == "invalid_api_key"
    listed = run("keys", "list", db).stdout
    assert "phone\tuser\trevoked" in listed
    again = run("keys", "revoke", db, "phone")
    assert again.exit_code == EXIT_CONFIG and "already revoked" in again.output


def test_bare_key_and_bearer_are_both_accepted(gw, keys) -> None:
    url = gw.base_url + "/conversations"
    assert http("GET", url, headers={"Authorization": keys.user}).status == 200
    assert http("GET", url, headers={"Authorization": f"Bearer {keys.user}"}).status == 200
    assert http("GET", url, headers={"Authorization": f"bearer  {keys.user} "}).status == 200
    assert http("GET", url, headers={"Authorization": keys.user[:-1]}).status == 401
    assert http("GET", url).status == 401


def test_last_use_is_recorded(gw, keys, db_path: Path) -> None:
    assert http("GET", gw.base_url + "/conversations", key=keys.user).status == 200
    with sqlite3.connect(db_path) as conn:
        used = dict(conn.execute("SELECT name, last_used_at FROM api_keys").fetchall())
    assert used["alice"] is not None and used["root"] is None


def test_per_key_rate(db_path: Path, keys, emu: RunningEmulator) -> None:
    with running_gateway(db_path, emu, key_rpm=1.0, key_burst=3) as gw:
        url = gw.base_url + "/conversations"
        statuses = [http("GET", url, key=keys.user).status for _ in range(3)]
        assert statuses == [200, 200, 200]
        refused = http("GET", url, key=keys.user)
        assert refused.status == 429
        assert int(refused.headers["Retry-After"]) >= 1
        body = refused.json()
        assert body["code"] == "key_rate_limited"
        assert "limit of this gateway, not of the upstream account" in body["detail"]
        # One key's rate is its own: the other key still goes.
        assert http("GET", url, key=keys.admin).status == 200
        on_v1 = http("GET", gw.base_url + "/v1/models", key=keys.user)
        assert on_v1.status == 429 and on_v1.json()["error"]["type"] == "gateway_rate_limited"


def test_a_name_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    assert run("keys", "add", db, "evil").exit_code == 0
    for name in ("evil\n", "evil\r\n", "\nevil", "evil\t", "evi\nl"):
        odd = run("keys", "add", db, name)
        assert odd.exit_code == EXIT_CONFIG, repr(name)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name FROM api_keys").fetchall() == [("evil",)]


def test_a_revoked_name_can_be_used_again(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    first = run("keys", "add", db, "laptop").stdout.strip()
    taken = run("keys", "add", db, "laptop")
    assert taken.exit_code == EXIT_CONFIG and "revoke it" in taken.output
    assert run("keys", "revoke", db, "laptop").exit_code == 0
    again = run("keys", "add", db, "laptop")  # what the refusal said would work
    assert again.exit_code == 0, again.output
    second = again.stdout.strip()
    listed = run("keys", "list", db).stdout.splitlines()
    active = [line for line in listed if "\tactive\t" in line]
    revoked = [line for line in listed if "\trevoked " in line]
    assert [line.split("\t")[0] for line in active] == ["laptop"]
    assert len(revoked) == 1 and revoked[0].startswith("laptop")  # still listed, told apart
    # Revoking by name hits the active key, the new one; the old one stays refused.
    assert run("keys", "revoke", db, "laptop").exit_code == 0
    from archiver.serve.keys import find_key
    from archiver.store import open_db

    opened = open_db(db)
    assert find_key(opened, first) is None and find_key(opened, second) is None
    opened.close()


def test_keys_add_does_not_create_a_missing_directory(tmp_path: Path) -> None:
    db = tmp_path / "typo" / "k.db"
    refused = run("keys", "add", db, "laptop")
    assert refused.exit_code == EXIT_CONFIG and "does not exist" in refused.output
    assert not db.parent.exists()
