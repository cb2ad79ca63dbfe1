"""serve/increments.py: what of a growing (and possibly retried) answer a stream may send."""

from __future__ import annotations

from archiver.serve.increments import SentText


def test_growing_text_gives_its_new_part_only() -> None:
    sent = SentText()
    assert [sent.advance(t) for t in ("He", "Hello", "Hello", "Hello wo")] == [
        "He",
        "llo",
        "",
        " wo",
    ]
    assert sent.finish("Hello world") == "rld"


def test_a_retry_from_the_start_is_silent_until_it_passes_what_was_sent() -> None:
    sent = SentText()
    sent.advance("Hello wo")
    assert [sent.advance(t) for t in ("", "H", "Hello", "Hello wo", "Hello world")] == [
        "",
        "",
        "",
        "",
        "rld",
    ]
    assert not sent.diverged
    assert sent.finish("Hello world") == ""


def test_an_answer_that_does_not_extend_what_was_sent_gives_none() -> None:
    sent = SentText()
    sent.advance("Hello wo")
    assert sent.advance("Goodbye") == ""
    assert sent.diverged
    assert sent.advance("Goodbye, and more") == ""  # still nothing: it is not the sent text
    assert sent.finish("Goodbye, and more") is None


def test_an_adopted_answer_after_a_cut_gives_the_rest() -> None:
    sent = SentText()
    sent.advance("Hello wo")
    assert sent.finish("Hello world") == "rld"  # looked up, never streamed again


def test_nothing_streamed_gives_the_whole_answer_at_the_end() -> None:
    assert SentText().finish("All at once") == "All at once"
