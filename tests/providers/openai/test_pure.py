"""The pure parts: request bodies, the schema check, multipart bodies, the archive rows and
how they render."""

from __future__ import annotations

import email.message
import email.parser
import json
from pathlib import Path

import pytest

from archiver.batch.sender import FailedAnswer, Thread, Turn
from archiver.errors import ConfigError
from archiver.providers.openai.chat import (
    ChatOptions,
    Structured,
    answer_for,
    length_field_for,
    load_structured,
    messages_for,
    request_body,
    token_estimate,
)
from archiver.providers.openai.flatten import flatten_exchange
from archiver.providers.openai.parse import parse_completion
from archiver.providers.openai.render import blocks as openai_blocks
from archiver.providers.openai.schema import check_schema, validate
from archiver.query.blocks import Code, Text, Thinking
from archiver.transport.request import FormField, encode_multipart


def completion(content: str | None, finish: str = "stop", **message: object) -> object:
    return parse_completion(
        {
            "id": "chatcmpl-9",
            "created": 1767225600,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [
                {
                    "message": {"role": "assistant", "content": content, **message},
                    "finish_reason": finish,
                }
            ],
            "usage": {"prompt_tokens": 11, "completion_tokens": 2},
        }
    )


def test_a_thread_is_sent_whole_each_turn() -> None:
    thread = Thread(system="Be brief", history=[Turn("one", "1"), Turn("two", "2")])
    assert messages_for(thread, "three") == [
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "1"},
        {"role": "user", "content": "two"},
        {"role": "assistant", "content": "2"},
        {"role": "user", "content": "three"},
    ]
    assert messages_for(Thread(), "alone") == [{"role": "user", "content": "alone"}]


def test_the_length_field_by_server() -> None:
    assert length_field_for("https://api.openai.com/v1") == "max_completion_tokens"
    assert length_field_for("https://res.openai.azure.com/openai/v1") == "max_completion_tokens"
    assert length_field_for("http://localhost:11434/v1") == "max_tokens"
    assert length_field_for("https://openrouter.ai/api/v1") == "max_tokens"
    body = request_body("m", [{"role": "user", "content": "x"}], ChatOptions(max_tokens=5))
    assert body == {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "max_completion_tokens": 5,
    }


def test_token_estimate_counts_text_and_the_longest_answer() -> None:
    messages = [{"role": "user", "content": "a" * 400}]
    assert token_estimate(messages, None) == 100 + 4
    assert token_estimate(messages, 1000) == 1104


def test_an_answer_grows_its_thread() -> None:
    thread = Thread(system="Be brief")
    first = answer_for(thread, "hello", completion("hi"), ChatOptions())  # type: ignore[arg-type]
    assert [m["id"] for m in first.messages] == ["system", "turn1-user", "turn1-assistant"]
    assert (first.prompt_tokens, first.completion_tokens, first.model) == (
        11,
        2,
        "gpt-4o-mini-2024-07-18",
    )
    second = answer_for(thread, "again", completion("hi again"), ChatOptions())  # type: ignore[arg-type]
    assert second.conversation_id == first.conversation_id
    assert [m["id"] for m in second.messages] == ["turn2-user", "turn2-assistant"]


def test_empty_answers_and_refusals_fail_with_their_reason() -> None:
    with pytest.raises(FailedAnswer, match="finish_reason length") as cut:
        answer_for(Thread(), "x", completion("", "length"), ChatOptions())  # type: ignore[arg-type]
    assert cut.value.facts is not None and cut.value.facts.completion_tokens == 2
    with pytest.raises(FailedAnswer, match="the model refused: no"):
        answer_for(Thread(), "x", completion(None, refusal="no"), ChatOptions())  # type: ignore[arg-type]


def test_a_schema_file_either_bare_or_wrapped(tmp_path: Path) -> None:
    bare = tmp_path / "my schema.json"
    bare.write_text('{"type": "object"}', encoding="utf-8")
    assert load_structured(bare) == Structured("my_schema", {"type": "object"})
    wrapped = tmp_path / "w.json"
    wrapped.write_text('{"name": "city", "schema": {"type": "string"}}', encoding="utf-8")
    assert load_structured(wrapped) == Structured("city", {"type": "string"})
    broken = tmp_path / "b.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="not JSON"):
        load_structured(broken)
    wrong = tmp_path / "t.json"
    wrong.write_text('{"type": "text"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown type"):
        load_structured(wrong)


SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 2},
        "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}, "maxItems": 2},
        "size": {"type": ["integer", "null"], "minimum": 0},
        "kind": {"enum": ["a", "b"]},
        "either": {"anyOf": [{"type": "string"}, {"type": "number"}]},
    },
    "required": ["name", "size"],
    "additionalProperties": False,
    "$defs": {"tag": {"type": "string", "pattern": "^[a-z]+$"}},
}


def test_schema_check_names_what_broke() -> None:
    assert check_schema(SCHEMA) is None and check_schema([]) is not None
    good = {"name": "ok", "tags": ["a"], "size": None, "kind": "a", "either": 3}
    assert validate(good, SCHEMA) == []
    bad = {"name": "x", "tags": ["A", "b", "c"], "size": -1, "kind": "z", "either": [], "extra": 1}
    problems = validate(bad, SCHEMA)
    assert "$.name: shorter than 2 characters" in problems
    assert "$.tags[0]: does not match the pattern" in problems
    assert "$.tags: more than 2 items" in problems
    assert "$.size: below 0" in problems
    assert "$.kind: not one of the allowed values" in problems
    assert "$.either: matches 0 of the anyOf choices" in problems
    assert "$: 'extra' is not allowed" in problems
    assert validate({"name": "ok"}, SCHEMA) == ["$: 'size' is missing"]
    assert validate(True, {"type": "integer"}) == ["$: expected integer, got boolean"]


def test_multipart_parses_back_as_a_standard_parser_reads_it() -> None:
    content = b'{"custom_id": "a"}\n{"custom_id": "b"}\n'
    body, content_type = encode_multipart(
        [
            FormField("purpose", "batch"),
            FormField("file", content, filename='in "x".jsonl', content_type="application/jsonl"),
        ]
    )
    message = email.parser.BytesParser().parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    payload = message.get_payload()
    assert isinstance(payload, list)
    parts: dict[object, email.message.Message] = {}
    for part in payload:
        assert isinstance(part, email.message.Message)
        parts[part.get_param("name", header="content-disposition")] = part
    assert parts["purpose"].get_payload(decode=True) == b"batch"
    assert parts["file"].get_payload(decode=True) == content
    assert parts["file"].get_filename() == "in %22x%22.jsonl"
    assert parts["file"].get_content_type() == "application/jsonl"


def test_the_boundary_never_appears_in_the_content() -> None:
    _, content_type = encode_multipart(
        [FormField("f", b"--archiver-fixed", filename="a.jsonl")], "archiver-fixed"
    )
    assert "archiver-fixed" not in content_type


def test_archive_rows_and_their_rendering() -> None:
    thread = Thread(system="Be brief")
    answer = answer_for(
        thread,
        "hello",
        completion('{"a": 1}', reasoning_content="thinking..."),  # type: ignore[arg-type]
        ChatOptions(structured=Structured("s", {"type": "object"})),
    )
    flat = flatten_exchange(
        {"id": answer.conversation_id, "title": "hello", "model": answer.model},
        answer.messages,
        account="https://api.openai.com/v1",
        source="batch",
    )
    rows = flat.messages
    assert [(r["role"], r["is_hidden"], r["depth"]) for r in rows] == [
        ("system", 1, 0),
        ("user", 0, 1),
        ("assistant", 0, 2),
    ]
    assistant = rows[2]
    assert assistant["text"] == '{"a": 1}' and assistant["content_type"] == "json"
    assert assistant["model_slug"] == "gpt-4o-mini-2024-07-18" and assistant["status"] == "stop"
    assert assistant["message_id"] == "chatcmpl-9"
    assert flat.conversation["provider"] == "openai" and flat.conversation["source"] == "batch"
    blocks = openai_blocks(json.loads(assistant["raw_json"]), assistant, {})
    assert blocks == [Thinking("thinking..."), Code('{"a": 1}', "json")]
    user_blocks = openai_blocks(json.loads(rows[1]["raw_json"]), rows[1], {})
    assert user_blocks == [Text("hello")]
