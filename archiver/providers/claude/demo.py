"""Claude's part of ``make demo``: a claude.ai account (branches, projects, artifacts, pasted
text and images) backed up twice, a CSV of prompts sent through its completion stream, and its
kept branches shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archiver.providers.modules import DemoRun

EMULATOR_KNOBS: dict[str, str | int] = {"chats": 24, "page_cap": 10}
QUERIES = (
    (
        "Claude: branches kept beside the current one",
        "SELECT c.title, count(*) AS messages, sum(m.on_current_branch) AS on_branch "
        "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        "WHERE c.provider = 'claude' AND c.id NOT LIKE 'claude-%' GROUP BY c.id "
        "HAVING messages > on_branch ORDER BY messages DESC LIMIT 5",
    ),
)

PROMPTS = """id,thread,prompt
k1,tiles,Which tiles suit a small kitchen?
k2,tiles,And which grout colour goes with them?
k3,,Summarise the Lisbon trip plan in one line.
"""


def steps(run: DemoRun) -> None:
    run.backup_twice("Back up Claude: every branch, projects, artifacts, pasted text and images")
    prompts = run.input_file("claude-prompts.csv", PROMPTS)
    run.heading("Batch through claude.ai's completion stream (a thread continues its parent)")
    run.batch(prompts, "--max-rpm", "600")
