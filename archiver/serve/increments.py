"""Pure: which part of an answer still being written a stream's client may be sent.

A sender reports the answer text of its current try as it grows (``on_text``, cumulative). A
try that breaks is retried as a whole, so the reports start over from nothing, and ChatGPT may
adopt the answer from a conversation look-up instead of streaming it again; the returned
answer is the only one archived. The client must never get text twice, nor text that is not in
that answer:

- a report that extends what was sent gives the rest (a delta);
- a report that is a prefix of what was sent (a retry catching up) gives nothing;
- any other report (a retry that answered differently, a replaced part) gives nothing either:
  what was sent can no longer be taken back, and the final answer decides;
- the final answer gives the rest when it extends what was sent, and None when it does not
  (the stream then ends with an error event, see docs/serve.md "Streaming").
"""

from __future__ import annotations

from archiver.flatten.records import replace_lone_surrogates


class SentText:
    """What a stream's client has been sent of one answer."""

    def __init__(self) -> None:
        self.sent = ""
        self.diverged = False  # a report did not extend what was sent (nor lead up to it)

    def advance(self, text: str) -> str:
        """The delta to send for a progress report ``text`` ("" when there is none)."""
        if text and "\ud800" <= text[-1] <= "\udbff":
            text = text[:-1]  # the first half of a character whose second may come next
        text = replace_lone_surrogates(text)  # as the final answer has it (batch.sender.Answer)
        if text.startswith(self.sent):
            delta = text[len(self.sent) :]
            self.sent = text
            return delta
        if not self.sent.startswith(text):
            self.diverged = True
        return ""

    def finish(self, answer: str) -> str | None:
        """The last delta for the final ``answer``; None when it does not extend what was sent."""
        if not answer.startswith(self.sent):
            return None
        delta = answer[len(self.sent) :]
        self.sent = answer
        return delta
