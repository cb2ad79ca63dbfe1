"""Helpers for stream tests: a whole answer body fed to the reader in given chunks."""

from __future__ import annotations

from archiver.providers.chatgpt.stream import AnswerStreamReader, StreamedAnswer


def parse_answer_stream(chunks: list[bytes] | tuple[bytes, ...]) -> StreamedAnswer:
    reader = AnswerStreamReader()
    for chunk in chunks:
        reader.feed(chunk)
    return reader.close()
