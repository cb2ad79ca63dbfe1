"""Microsoft Copilot's part of ``make demo``: its history backed up twice, and a CSV of prompts
sent through its chat socket, which asks a hashcash proof of work once."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archiver.providers.modules import DemoRun

EMULATOR_KNOBS: dict[str, str | int] = {"chats": 25, "challenge": "hashcash"}
QUERIES: tuple[tuple[str, str], ...] = ()

PROMPTS = """id,thread,prompt
c1,garden,Which vegetables grow well in shade?
c2,garden,And which of them in pots?
c3,,Explain hashcash in one paragraph.
"""


def steps(run: DemoRun) -> None:
    run.backup_twice("Back up Microsoft Copilot (history pages newest first, stored oldest first)")
    prompts = run.input_file("copilot-prompts.csv", PROMPTS)
    run.heading("Batch through Copilot's chat socket (it asks a hashcash proof of work once)")
    run.batch(prompts, "--max-rpm", "600")
