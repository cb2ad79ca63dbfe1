"""Bing chat's part of ``make demo``: its saved chats backed up into the same tables as the
others, and two prompts sent through the ChatHub socket."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archiver.providers.modules import DemoRun

EMULATOR_KNOBS: dict[str, str | int] = {}  # its defaults
QUERIES: tuple[tuple[str, str], ...] = ()

PROMPTS = "prompt\nWhat is the tallest tree?\nAnd the oldest one?\n"


def steps(run: DemoRun) -> None:
    run.heading("Back up Bing chats into the same tables")
    run.backup("--concurrency", "4")
    prompts = run.input_file("bing-prompts.csv", PROMPTS)
    run.heading("Batch through Bing chat (ChatHub)")
    run.batch(prompts, "--max-rpm", "600")
