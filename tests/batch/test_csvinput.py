from __future__ import annotations

from pathlib import Path

import pytest

from archiver.batch.csvinput import read_batch_csv
from archiver.errors import InputError


def csv_file(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "p.csv"
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def test_bom_quoted_multiline_and_optional_columns(tmp_path: Path) -> None:
    text = '\ufeffid,prompt,thread,model\n1,"two\nlines, é",t,gpt-4o\n2,plain,,\n'
    batch = read_batch_csv(csv_file(tmp_path, text), default_model="m")
    first, second = batch.rows
    assert first.prompt == "two\nlines, é" and first.thread == "t" and first.model == "gpt-4o"
    assert second.line == 4 and second.thread is None and second.model == "m"
    assert [r.row_number for r in batch.rows] == [1, 2]
    assert batch.columns == ("id", "prompt", "thread", "model")


def test_template_over_columns(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "title,body\nA,alpha\nB,beta\n")
    batch = read_batch_csv(path, template="Summarise {title}: {body} {{x}}")
    assert [r.prompt for r in batch.rows] == ["Summarise A: alpha {x}", "Summarise B: beta {x}"]


def test_derived_keys_are_stable_and_repeats_numbered(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "prompt\nsame\nother\nsame\n")
    keys = [r.key for r in read_batch_csv(path).rows]
    assert keys[0] != keys[1] and keys[2] == keys[0] + "-2"
    assert keys == [r.key for r in read_batch_csv(path).rows]


@pytest.mark.parametrize(
    ("content", "template", "expected"),
    [
        ("id,prompt\na,x\nb,\n", None, "line 3: empty prompt"),
        ("id,prompt\na,x\na,y\n", None, "line 3: duplicate id 'a' (first on line 2)"),
        ("id,prompt\na,x\nb,y,z\n", None, "line 3: 3 fields, but the header has 2"),
        ('id,prompt\na,"x\ny"\nb,y,z\n', None, "line 4: 3 fields"),
        ("title\nA\n", "Do {title} {missing}", "line 1: --template uses column(s) 'missing'"),
        ("id,text\na,x\n", None, "line 1: no 'prompt' column"),
        ("", None, "no header row"),
        ("prompt\n", None, "no prompts"),
        ("prompt,prompt\na,b\n", None, "line 1: column 'prompt' appears twice"),
        ("id,prompt\n,x\n", None, "line 2: empty id"),
    ],
)
def test_errors_name_the_line(
    tmp_path: Path, content: str, template: str | None, expected: str
) -> None:
    with pytest.raises(InputError) as info:
        read_batch_csv(csv_file(tmp_path, content), template=template)
    assert expected in str(info.value)


def test_bad_encoding_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="line 3: not UTF-8"):
        read_batch_csv(csv_file(tmp_path, b"prompt\nok\nbad \xff here\n"))


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_batch_csv(csv_file(tmp_path, "id,prompt\na,\nb,\nc,ok\nc,ok\n"))
    message = str(info.value)
    assert "line 2" in message and "line 3" in message and "line 5" in message
    assert "nothing was sent" in message


@pytest.mark.parametrize("template", ["{a.b}", "{a!r}", "{a:>10}", "{", "no fields"])
def test_bad_templates(tmp_path: Path, template: str) -> None:
    with pytest.raises(InputError, match="--template"):
        read_batch_csv(csv_file(tmp_path, "a\nx\n"), template=template)


def test_system_column_blank_is_none_and_a_thread_keeps_its_first(tmp_path: Path) -> None:
    from archiver.batch.csvinput import prompt_hash

    text = (
        "id,thread,System,prompt\na,t,Be brief,one\nb,t,Ignored,two\nc,,  ,three\nd,,Terse,four\n"
    )
    batch = read_batch_csv(csv_file(tmp_path, text))
    assert [r.system for r in batch.rows] == ["Be brief", "Be brief", None, "Terse"]
    assert batch.has_system
    # A row without a system hashes as it always did; with one, the instruction counts.
    assert batch.rows[2].prompt_hash == prompt_hash("three")
    assert batch.rows[0].prompt_hash != prompt_hash("one")
    assert prompt_hash("x", "a") != prompt_hash("x", "b")
    plain = read_batch_csv(csv_file(tmp_path, "prompt\nhello\n"))
    assert not plain.has_system
