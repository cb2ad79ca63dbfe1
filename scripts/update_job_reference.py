"""Rewrite the generated job-key reference in docs/jobs.md (between its markers)."""

from __future__ import annotations

from pathlib import Path

from archiver.jobs.reference import BEGIN, END, reference

DOC = Path(__file__).parents[1] / "docs" / "jobs.md"

text = DOC.read_text(encoding="utf-8")
start, end = text.index(BEGIN), text.index(END) + len(END)
DOC.write_text(text[:start] + reference() + text[end:], encoding="utf-8")
print(f"updated {DOC}")
