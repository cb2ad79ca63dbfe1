"""ChatGPT backend-api routes, over real HTTP against a running emulator."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime
from itertools import pairwise
from typing import Any

from archiver.emulator import running_emulator
from archiver.providers.chatgpt.fake.generate import export_conversation, write_export_json
from archiver.providers.chatgpt.fake.world import world_of as chatgpt_world
from archiver.providers.chatgpt.options import ROOT_PARENT
from archiver.providers.chatgpt.stream import build_request
from tests.support.emulator_client import AUTH, call, sse_events
from tests.support.fakes import fake_config


def _list(base: str, **params: Any) -> dict:
    reply = call("GET", f"{base}/conversations", params=params, headers=AUTH)
    assert reply.status == 200
    return reply.json()


def _prompt(
    base: str, text: str, *, v1: bool = False, **fields: Any
) -> list[tuple[str | None, str]]:
    body = {**build_request(text, parent_message_id=ROOT_PARENT, model="gpt-4o"), **fields}
    if not v1:  # the classic encoding: what a client that names none gets
        del body["supported_encodings"]
    headers = {**AUTH, "Accept": "text/event-stream"}
    reply = call("POST", f"{base}/conversation", json=body, headers=headers)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/event-stream")
    return sse_events(reply.text)


def _classic_answer(events: list[tuple[str | None, str]]) -> dict:
    assert events[-1][1] == "[DONE]"
    frames = [json.loads(d) for _, d in events[:-1]]
    messages = [f for f in frames if "message" in f]
    texts = [
        m["message"]["content"]["parts"][0]
        for m in messages
        if m["message"]["author"]["role"] == "assistant"
    ]
    assert len(texts) > 2 and all(b.startswith(a) for a, b in pairwise(texts))
    return messages[-1]


def reassemble_v1(events: list[tuple[str | None, str]]) -> list[dict]:
    """Apply v1 delta frames; returns the documents (one per ``c``) as the client would see them."""
    docs: dict[int, dict] = {}
    current, last_p, last_o = 0, "", ""

    def apply(doc: dict, p: str, o: str, v: Any) -> None:
        keys = [k for k in p.split("/") if k]
        target: Any = doc
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        k: Any = int(keys[-1]) if isinstance(target, list) else keys[-1]
        if o == "append" and isinstance(target[k], dict):
            target[k].update(v)
        elif o == "append":
            target[k] += v
        elif o == "replace":
            target[k] = v

    assert events[0] == ("delta_encoding", '"v1"')
    assert events[-1][1] == "[DONE]"
    for event, raw in events[1:-1]:
        frame = json.loads(raw)
        if event != "delta":
            assert "type" in frame  # marker, title, metadata, stream complete: ignorable
            continue
        if frame.get("o") == "add":
            current = frame.get("c", current)
            docs[current] = copy.deepcopy(frame["v"])
            continue
        if frame.get("o") == "patch":
            for op in frame["v"]:
                apply(docs[current], op["p"], op["o"], op["v"])
            continue
        last_p, last_o = frame.get("p", last_p), frame.get("o", last_o)
        apply(docs[current], last_p, last_o, frame["v"])
    return [docs[c] for c in sorted(docs)]


def test_list_paging_is_newest_first_and_limit_is_capped(emu) -> None:
    base = emu.chatgpt_base_url
    first, second = _list(base, offset=0, limit=20), _list(base, offset=20, limit=20)
    assert first["total"] == second["total"] > 40
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert len(set(ids)) == 40
    assert first["items"][0]["mapping"] is None and first["items"][0]["current_node"] is None
    assert {"limit", "offset", "has_missing_conversations"} <= set(first)
    too_many = call("GET", f"{base}/conversations", params={"limit": 101}, headers=AUTH)
    assert too_many.status == 422
    assert too_many.json()["detail"][0]["msg"] == "ensure this value is less than or equal to 100"


def test_list_timestamps_are_iso_in_several_spellings_and_ordered(emu) -> None:
    items = _list(emu.chatgpt_base_url, limit=100)["items"]
    updates = [i["update_time"] for i in items]
    assert any(u.endswith("Z") for u in updates)
    assert any(u.endswith("+00:00") for u in updates)
    assert any(len(u) == 19 for u in updates)  # whole seconds, no zone
    parsed = [
        datetime.fromisoformat(u.replace("Z", "+00:00")).replace(tzinfo=None) for u in updates
    ]
    assert parsed == sorted(parsed, reverse=True)


def test_archived_chats_only_in_archived_list(emu) -> None:
    base = emu.chatgpt_base_url
    normal = _list(base, limit=100)["items"]
    archived = _list(base, limit=100, is_archived="true")["items"]
    assert archived and all(i["is_archived"] for i in archived)
    assert not any(i["is_archived"] for i in normal)
    assert not {i["id"] for i in normal} & {i["id"] for i in archived}


def test_detail_has_no_id_and_float_times(emu) -> None:
    cid = _list(emu.chatgpt_base_url, limit=1)["items"][0]["id"]
    body = call("GET", f"{emu.chatgpt_base_url}/conversation/{cid}", headers=AUTH).json()
    assert "id" not in body and body["conversation_id"] == cid
    assert isinstance(body["create_time"], float) and isinstance(body["update_time"], float)
    assert body["current_node"] in body["mapping"]
    times = [n["message"]["create_time"] for n in body["mapping"].values() if n.get("message")]
    assert all(t is None or isinstance(t, float) for t in times)
    missing = call("GET", f"{emu.chatgpt_base_url}/conversation/{uuid.uuid4()}", headers=AUTH)
    assert missing.status == 404 and missing.json()["detail"].startswith("Can't load conversation")


def test_export_format_matches_what_the_api_serves(emu, tmp_path) -> None:
    cid = _list(emu.chatgpt_base_url, limit=1, offset=7)["items"][0]["id"]
    served = call("GET", f"{emu.chatgpt_base_url}/conversation/{cid}", headers=AUTH).json()
    index = chatgpt_world(emu.state).records[cid].index
    assert index is not None and export_conversation(index) == {"id": cid, **served}
    write_export_json(tmp_path / "conversations.json", 60)
    exported = json.loads((tmp_path / "conversations.json").read_text())
    listed = _list(emu.chatgpt_base_url, limit=100)["items"]
    listed += _list(emu.chatgpt_base_url, limit=100, is_archived="true")["items"]
    assert {c["id"] for c in exported} == {i["id"] for i in listed}


def test_auth_token_and_account_id() -> None:
    with running_emulator(fake_config(chatgpt_conversations=3, chatgpt_account_id="acct-1")) as emu:
        url = f"{emu.chatgpt_base_url}/conversations"
        bad = call(
            "GET", url, headers={"Authorization": "Bearer nope", "Chatgpt-Account-Id": "acct-1"}
        )
        assert bad.status == 401 and bad.json()["detail"]["code"] == "token_expired"
        assert call("GET", url, headers=AUTH).status == 401  # account id missing
        good = call("GET", url, headers={**AUTH, "Chatgpt-Account-Id": "acct-1"})
        assert good.status == 200
        limit = call("GET", f"{emu.base_url}/public-api/conversation_limit", headers=AUTH)
        assert limit.status == 401


def test_classic_stream_creates_a_chat_that_tops_the_list() -> None:
    with running_emulator(fake_config(chatgpt_conversations=10)) as emu:
        base = emu.chatgpt_base_url
        events = _prompt(base, "Tell me about rivers")
        echoed = [json.loads(d)["message"] for _, d in events[:2]]
        assert [m["author"]["role"] for m in echoed] == ["system", "user"]
        assert echoed[1]["content"]["parts"] == ["Tell me about rivers"]
        last = _classic_answer(events)
        message = last["message"]
        assert message["status"] == "finished_successfully" and message["end_turn"] is True
        assert message["metadata"]["model_slug"] == "gpt-4o"
        cid = last["conversation_id"]
        top = _list(base, limit=1)["items"][0]
        assert top["id"] == cid
        detail = call("GET", f"{base}/conversation/{cid}", headers=AUTH).json()
        assert detail["current_node"] == message["id"]
        assert detail["mapping"][message["id"]]["message"]["content"] == message["content"]
        # A follow-up on the same chat, parented at the answer.
        follow = _classic_answer(
            _prompt(base, "And lakes?", conversation_id=cid, parent_message_id=message["id"])
        )
        assert follow["conversation_id"] == cid
        detail = call("GET", f"{base}/conversation/{cid}", headers=AUTH).json()
        user_id = detail["mapping"][detail["current_node"]]["parent"]
        assert detail["mapping"][user_id]["parent"] == message["id"]
        assert emu.state.stats()["prompts"] == 2


def test_v1_stream_reassembles_to_the_same_text_as_classic() -> None:
    with running_emulator(fake_config(chatgpt_conversations=0)) as emu:
        base = emu.chatgpt_base_url
        classic = _classic_answer(_prompt(base, "Same prompt"))["message"]
        events = _prompt(base, "Same prompt", v1=True, model="o3")
        assert any(e is None and '"message_stream_complete"' in d for e, d in events)
        bare = [json.loads(d) for e, d in events if e == "delta" and set(json.loads(d)) == {"v"}]
        assert bare  # frames that reuse the previous path and op
        *_, answer = reassemble_v1(events)
        message = answer["message"]
        assert message["content"]["parts"] == classic["content"]["parts"]
        assert message["status"] == "finished_successfully" and message["end_turn"] is True
        assert message["metadata"]["model_slug"] == "o3"
        cid = answer["conversation_id"]
        titled = _list(base, limit=5)["items"]
        assert next(i for i in titled if i["id"] == cid)["title"] != "New chat"  # title_generation


def test_long_answer_stops_at_max_tokens_and_continue_finishes_it() -> None:
    with running_emulator(fake_config(chatgpt_conversations=0)) as emu:
        base = emu.chatgpt_base_url
        first = _classic_answer(_prompt(base, "[long] explain everything"))
        message, cid = first["message"], first["conversation_id"]
        assert message["metadata"]["finish_details"]["type"] == "max_tokens"
        assert message["end_turn"] is False
        body = {
            "action": "continue",
            "conversation_id": cid,
            "parent_message_id": message["id"],
            "model": "gpt-4o",
        }
        reply = call("POST", f"{base}/conversation", json=body, headers=AUTH)
        rest = _classic_answer(sse_events(reply.text))["message"]
        assert rest["metadata"]["finish_details"]["type"] == "stop"
        whole = message["content"]["parts"][0] + rest["content"]["parts"][0]
        assert whole.startswith("Here is what I can say about explain everything.")
        detail = call("GET", f"{base}/conversation/{cid}", headers=AUTH).json()
        node = detail["mapping"][detail["current_node"]]
        assert node["parent"] == message["id"]  # consecutive assistant nodes


def test_hide_rename_gen_title_touch_and_delete() -> None:
    with running_emulator(fake_config(chatgpt_conversations=6)) as emu:
        base = emu.chatgpt_base_url
        a, b, c, *_ = [i["id"] for i in _list(base)["items"]]
        assert call(
            "PATCH", f"{base}/conversation/{a}", json={"is_visible": False}, headers=AUTH
        ).json() == {"success": True}
        assert call("GET", f"{base}/conversation/{a}", headers=AUTH).status == 404
        assert a not in {i["id"] for i in _list(base)["items"]}
        call("PATCH", f"{base}/conversation/{b}", json={"title": "Renamed"}, headers=AUTH)
        assert call("GET", f"{base}/conversation/{b}", headers=AUTH).json()["title"] == "Renamed"
        again = call(
            "POST", f"{base}/conversation/gen_title/{b}", json={"message_id": "x"}, headers=AUTH
        )
        assert "already has title" in again.json()["message"]

        last = _list(base)["items"][-1]
        before = call("GET", f"{base}/conversation/{last['id']}", headers=AUTH).json()
        touched = call("POST", f"{emu.base_url}/_emulator/touch/{last['id']}")
        assert touched.status == 200
        after = call("GET", f"{base}/conversation/{last['id']}", headers=AUTH).json()
        assert after["update_time"] > before["update_time"]
        assert len(after["mapping"]) == len(before["mapping"]) + 2
        assert _list(base)["items"][0]["id"] == last["id"]

        assert call("POST", f"{emu.base_url}/_emulator/delete/{c}").status == 200
        assert call("GET", f"{base}/conversation/{c}", headers=AUTH).status == 404


def test_account_endpoints(emu) -> None:
    base = emu.chatgpt_base_url
    assert "account_plan" in call("GET", f"{base}/accounts/check", headers=AUTH).json()
    models = call(
        "GET", f"{base}/models", params={"history_and_training_disabled": "false"}, headers=AUTH
    )
    assert models.json()["models"][0]["slug"]
    assert "browsing" in call("GET", f"{base}/settings/beta_features", headers=AUTH).json()
    assert (
        call("GET", f"{emu.base_url}/public-api/conversation_limit", headers=AUTH).json()[
            "message_cap"
        ]
        == 40.0
    )
    shared = call(
        "GET", f"{base}/shared_conversations", params={"order": "created", "limit": 3}, headers=AUTH
    ).json()
    assert shared["total"] > 3 and len(shared["items"]) == 3
    assert all(i["conversation_id"] != i["id"] for i in shared["items"])
    assert call("POST", f"{base}/accounts/data_export", headers=AUTH).json() == {"status": "queued"}


def test_regenerate_and_resent_message_id_keep_the_tree_consistent() -> None:
    with running_emulator(fake_config(chatgpt_conversations=0)) as emu:
        base = emu.chatgpt_base_url
        first = _classic_answer(_prompt(base, "Pick a colour"))
        cid, answer = first["conversation_id"], first["message"]
        detail = call("GET", f"{base}/conversation/{cid}", headers=AUTH).json()
        user_id = detail["mapping"][answer["id"]]["parent"]
        body = {"action": "variant", "conversation_id": cid, "parent_message_id": user_id}
        call("POST", f"{base}/conversation", json={**body, "model": "gpt-4o"}, headers=AUTH)
        # The same client message id sent twice (a retry) must not overwrite the first node.
        again = {"conversation_id": cid, "parent_message_id": answer["id"]}
        msg_id = str(uuid.uuid4())
        for _ in range(2):
            _classic_answer(_prompt(base, "Why?", **again, messages=[_user(msg_id, "Why?")]))
        mapping = call("GET", f"{base}/conversation/{cid}", headers=AUTH).json()["mapping"]
        roles = [mapping[c]["message"]["author"]["role"] for c in mapping[user_id]["children"]]
        assert roles == ["assistant", "assistant"]  # a regenerated sibling
        assert len(mapping[answer["id"]]["children"]) == 2
        for node_id, node in mapping.items():
            assert all(mapping[c]["parent"] == node_id for c in node["children"])


def _user(message_id: str, text: str) -> dict:
    content = {"content_type": "text", "parts": [text]}
    return {"id": message_id, "author": {"role": "user"}, "content": content, "metadata": {}}


def test_prompts_create_new_conversations_never_reusing_generated_ids():
    from archiver.emulator import running_emulator
    from archiver.providers.chatgpt.fake.generate import summary

    config = fake_config(chatgpt_conversations=10, seed=1)
    generated = {summary(i, seed=1).id for i in range(10)}
    with running_emulator(config) as emu:
        created = [emu.state.new_id("conversation") for _ in range(5)]
    assert not generated & set(created)
