"""ChatGPT's part of ``make demo``: a 2026 account backed up (with its session cookie, then its
access token), the same backup as cron runs it from a job file, a CSV of prompts sent through
the sentinel and ``f/conversation``, and an official data export that overlaps the backup."""

from __future__ import annotations

from typing import TYPE_CHECKING

from archiver.providers.chatgpt.options import SESSION_ENV, TOKEN_ENV

if TYPE_CHECKING:
    from archiver.providers.modules import DemoRun

CONVERSATIONS = 120
EMULATOR_KNOBS: dict[str, str | int] = {
    "conversations": CONVERSATIONS,
    "projects": 3,
    # Sending as in 2026: only f/conversation, behind the sentinel's proof of work.
    "send_paths": "f",
    "pow_difficulty": "00ffff",
}
QUERIES: tuple[tuple[str, str], ...] = ()

JOB = "jobs/demo-chatgpt.toml"
JOB_PORT = 8765  # the emulator's port the job file points at

PROMPTS = """id,thread,prompt
q1,sqlite,What is write-ahead logging in SQLite?
q2,sqlite,How does it differ from a rollback journal?
q3,,Give me three names for a backup tool.
q4,,"Summarise: the archive keeps every branch, raw JSON, and never deletes."
q5,bing-thread,Plan a weekend trip to Lisbon.
"""


def steps(run: DemoRun) -> None:
    from archiver.providers.chatgpt.fake.config import ChatGPTFakeConfig
    from archiver.providers.chatgpt.fake.generate import write_export_json

    # Signed in as a 2026 browser is: with the session cookie (the emulator's, made up), not
    # the access token.
    session = {key: value for key, value in run.environment.items() if key != TOKEN_ENV}
    session[SESSION_ENV] = ChatGPTFakeConfig().session_cookie
    run.heading("Back up ChatGPT (first run: everything, Projects, canvas and images included)")
    run.backup("--concurrency", "4", env=session)
    run.heading("Back up again: nothing changed, so one request per list (no account snapshot)")
    run.backup("--no-snapshot")
    if run.base_url.endswith(f":{JOB_PORT}"):
        run.heading("The same backup as cron runs it: a job file (locked, recorded in `runs`)")
        run.archiver("run", JOB)
        run.archiver("schedule", JOB, env={})
    else:
        print(f"(the emulator is not on port {JOB_PORT}: skipping the job-file step)")

    prompts = run.input_file("prompts.csv", PROMPTS)
    run.heading(
        "Send a CSV of prompts as today's web app does (sentinel token, proof of work, "
        "f/conversation; threads become conversations)"
    )
    run.batch(prompts, "--max-rpm", "600", env=session)
    sent = run.emulator_stats()
    print(
        f"  the emulator answered {sent['prompts']} prompts and issued "
        f"{sent['sentinel_issued']} single-use sentinel tokens ({sent['sentinel_refused']} "
        "refused)"
    )
    run.heading("Run the same batch again: everything already answered is skipped")
    run.batch(prompts, "--max-rpm", "600", env=session)
    # The re-run owns its rows, those the first run answered included.
    run.heading("The batch's answers, in input order")
    run.archiver("results", run.db, "--format", "csv", env={})

    export = run.workdir / "conversations.json"
    # The same account as the emulator serves, plus 10 conversations the live list never showed.
    write_export_json(export, CONVERSATIONS + 10, seed=run.seed)
    run.heading("Import an official data export (overlapping the live backup)")
    run.import_export(export)
