"""`make demo`: archive the bundled emulator into demo.db and show what the archive can answer.

Runs the real commands a user would run, against the emulator on 127.0.0.1 (never a real
account), with the emulator's made-up credentials passed through the environment."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DB = ROOT / "demo.db"
ARCHIVER = [sys.executable, "-m", "archiver"]
EMULATOR_TOKEN = "emulator-token"  # the emulator's default, not a real credential
EMULATOR_COOKIE = "emulator-cookie"
EMULATOR_SESSION = "emulator-session"  # the emulator's ChatGPT session cookie, made up too
EMULATOR_COPILOT_TOKEN = "emulator-copilot-token"
# The emulator's Gemini cookies, made up too.
EMULATOR_GEMINI_COOKIE = "__Secure-1PSID=emulator-psid; __Secure-1PSIDTS=emulator-psidts"


def emulator_environment(name: str, url: str) -> dict[str, str]:
    """Where provider ``name``'s fake is in the emulator at ``url``, and its credentials."""
    from archiver.providers import registry

    emulator = registry.get(name).emulator
    assert emulator is not None
    return emulator.environment(url)


def heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


JOB_PORT = 8765  # the port jobs/demo-chatgpt.toml points at


def free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@contextmanager
def emulator() -> Iterator[str]:
    port = JOB_PORT if free(JOB_PORT) else 0
    process = subprocess.Popen(
        [
            *ARCHIVER,
            "emulator",
            "--port",
            str(port),
            "--seed",
            "1",
            "--conversations",
            "120",
            "--projects",
            "3",
            "--copilot-chats",
            "25",
            "--copilot-challenge",
            "hashcash",
            # ChatGPT sends as in 2026: only f/conversation, behind the sentinel's proof of work.
            "--send-paths",
            "f",
            "--pow-difficulty",
            "00ffff",
            # A claude.ai account: branches, projects, artifacts, pasted text and images.
            "--set",
            "claude.chats=24",
            "--set",
            "claude.page_cap=10",
            "--set",
            "gemini.chats=8",
            # The OpenAI-compatible API: 600 requests a minute stated in its headers, and
            # batches that take a few seconds.
            "--set",
            "openai.rpm=600",
            "--set",
            "openai.stage_seconds=1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("emulator ready "):
            raise SystemExit(f"the emulator did not start: {line!r}")
        yield line.removeprefix("emulator ready ")
    finally:
        process.terminate()
        process.wait(timeout=10)


def emulator_stats(url: str) -> dict:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{url}/_emulator/stats") as response:
        return json.load(response)


def archiver(*args: str, env: dict[str, str]) -> None:
    print("$ archiver " + " ".join(args), flush=True)
    started = time.monotonic()
    result = subprocess.run([*ARCHIVER, *args], env={**os.environ, **env}, check=False)
    print(f"  (exit {result.returncode}, {time.monotonic() - started:.1f}s)")
    if result.returncode not in (0, 3):
        raise SystemExit(result.returncode)


def backup_twice(provider: str, title: str, *, env: dict[str, str]) -> None:
    """A provider's first backup, then a second one that finds nothing changed."""
    heading(title)
    archiver("backup", provider, str(DB), "--max-rpm", "6000", env=env)
    heading(f"Back up {provider} again: nothing changed, so only the list requests")
    archiver("backup", provider, str(DB), "--max-rpm", "6000", env=env)


PROMPTS = """id,thread,prompt
q1,sqlite,What is write-ahead logging in SQLite?
q2,sqlite,How does it differ from a rollback journal?
q3,,Give me three names for a backup tool.
q4,,"Summarise: the archive keeps every branch, raw JSON, and never deletes."
q5,bing-thread,Plan a weekend trip to Lisbon.
"""


CLAUDE_PROMPTS = """id,thread,prompt
k1,tiles,Which tiles suit a small kitchen?
k2,tiles,And which grout colour goes with them?
k3,,Summarise the Lisbon trip plan in one line.
"""


API_PROMPTS = """id,thread,system,prompt
a1,wal,You answer in one sentence.,What is write-ahead logging?
a2,wal,,And why does SQLite use it?
a3,,,Name three uses of a token bucket.
a4,,You are a poet.,A haiku about backups.
"""

API_BATCH_PROMPTS = """id,model,prompt
b1,gpt-4o-mini,Summarise the CAP theorem.
b2,gpt-4o-mini,What is a Merkle tree?
b3,gpt-4o,Explain idempotency keys.
"""


COPILOT_PROMPTS = """id,thread,prompt
c1,garden,Which vegetables grow well in shade?
c2,garden,And which of them in pots?
c3,,Explain hashcash in one paragraph.
"""


def write_inputs(workdir: Path) -> tuple[Path, Path, Path]:
    """A prompts CSV for the batch runner and a small official export to import."""
    from archiver.providers.chatgpt.fake.generate import write_export_json

    workdir.mkdir(exist_ok=True)
    chatgpt_csv = workdir / "prompts.csv"
    chatgpt_csv.write_text(PROMPTS, encoding="utf-8")
    bing_csv = workdir / "bing-prompts.csv"
    bing_csv.write_text(
        "prompt\nWhat is the tallest tree?\nAnd the oldest one?\n", encoding="utf-8"
    )
    (workdir / "copilot-prompts.csv").write_text(COPILOT_PROMPTS, encoding="utf-8")
    (workdir / "claude-prompts.csv").write_text(CLAUDE_PROMPTS, encoding="utf-8")
    (workdir / "api-prompts.csv").write_text(API_PROMPTS, encoding="utf-8")
    (workdir / "api-batch-prompts.csv").write_text(API_BATCH_PROMPTS, encoding="utf-8")
    export = workdir / "conversations.json"
    # The same account as the emulator serves, plus 10 conversations the live list never showed.
    write_export_json(export, 130, seed=1)
    return chatgpt_csv, bing_csv, export


def gemini_takeout(workdir: Path) -> Path:
    """A small Google Takeout (My Activity, JSON form) of the same Gemini account the emulator
    serves: an entry for each prompt of two archived chats (so the import matches them to the
    live turns), one prompt with an uploaded photo that only the Takeout has, some feedback, and
    another product's activity (left out)."""
    import json
    import zipfile

    db = sqlite3.connect(DB)
    chats = [
        row[0]
        for row in db.execute(
            "SELECT id FROM conversations WHERE provider = 'gemini' ORDER BY id LIMIT 2"
        )
    ]
    turns = db.execute(
        "SELECT conversation_id, text, create_time FROM messages WHERE role = 'user' "
        "AND conversation_id IN (?, ?) ORDER BY create_time",
        chats,
    ).fetchall()
    db.close()

    def entry(title: str, when: str, chat: str | None, answer: str | None) -> dict:
        item: dict = {"header": "Gemini Apps", "title": title, "time": when[:23] + "Z"}
        item |= {"products": ["Gemini Apps"], "activityControls": ["Gemini Apps Activity"]}
        if chat:
            url = "https://gemini.google.com/app/" + chat.removeprefix("c_")
            item["details"] = [{"name": url, "url": url}]
        if answer:
            item["safeHtmlItem"] = [{"html": f"<p>{answer}</p>"}]
        return item

    entries = [
        entry(f"Prompted {text}", when, cid, "(as the live chat)") for cid, text, when in turns
    ]
    photo = "photo_a1b2c3-0f1e2d3c4b5a6978.png"
    last = entry(
        "Prompted What is in this photo?", "2026-09-01T10:00:00.000Z", chats[0], "A beach."
    )
    last["subtitles"] = [{"name": "Attached 1 file."}, {"name": "-  photo.png", "url": photo}]
    last["imageFile"] = photo
    entries += [
        last,
        entry("Gave feedback: Good response", "2026-09-01T10:01:00.000Z", chats[0], None),
    ]
    entries.sort(key=lambda e: e["time"], reverse=True)
    search = [
        {
            "header": "Search",
            "title": "Searched for tide tables",
            "time": "2026-09-01T09:00:00.000Z",
        }
    ]
    path = workdir / "takeout-gemini.zip"
    with zipfile.ZipFile(path, "w") as archive:
        folder = "Takeout/My Activity/Gemini Apps"
        archive.writestr(f"{folder}/MyActivity.json", json.dumps(entries, indent=2))
        archive.writestr(f"{folder}/{photo}", b"\x89PNG\r\n\x1a\n demo photo")
        archive.writestr("Takeout/My Activity/Search/MyActivity.json", json.dumps(search))
    return path


def show(db: sqlite3.Connection, title: str, sql: str) -> None:
    heading(title)
    print(f"  {' '.join(sql.split())}")
    cursor = db.execute(sql)
    names = [d[0] for d in cursor.description]
    rows = [[" ".join(("" if v is None else str(v)).split())[:60] for v in row] for row in cursor]
    widths = [
        max(len(n), *(len(r[i]) for r in rows)) if rows else len(n) for i, n in enumerate(names)
    ]
    print("  " + "  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)))
    for row in rows:
        print("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def main() -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(f"{DB}.files", ignore_errors=True)  # the file store of the last demo
    prompts, bing_prompts, export = write_inputs(ROOT / "demo")
    with emulator() as url:
        print(f"emulator running at {url}")
        chatgpt = {"CHATGPT_ACCESS_TOKEN": EMULATOR_TOKEN, "CHATGPT_BASE_URL": f"{url}/backend-api"}
        heading("Back up ChatGPT (first run: everything, Projects, canvas and images included)")
        # Signed in as a 2026 browser is: with the session cookie, not the access token.
        session = {
            "CHATGPT_SESSION_TOKEN": EMULATOR_SESSION,
            "CHATGPT_BASE_URL": chatgpt["CHATGPT_BASE_URL"],
        }
        archiver(
            "backup", "chatgpt", str(DB), "--max-rpm", "6000", "--concurrency", "4", env=session
        )
        heading("Back up again: nothing changed, so one request per list (no account snapshot)")
        archiver("backup", "chatgpt", str(DB), "--max-rpm", "6000", "--no-snapshot", env=chatgpt)
        if url.endswith(f":{JOB_PORT}"):
            heading("The same backup as cron runs it: a job file (locked, recorded in `runs`)")
            archiver("run", "jobs/demo-chatgpt.toml", env=chatgpt)
            archiver("schedule", "jobs/demo-chatgpt.toml", env={})
        else:
            print(f"(port {JOB_PORT} is busy: skipping the job-file step)")
        bing = {"BING_COOKIE": EMULATOR_COOKIE, "BING_BASE_URL": url, "SYDNEY_BASE_URL": url}
        heading("Back up Bing chats into the same tables")
        archiver("backup", "bing", str(DB), "--max-rpm", "6000", "--concurrency", "4", env=bing)
        heading(
            "Send a CSV of prompts as today's web app does (sentinel token, proof of work, "
            "f/conversation; threads become conversations)"
        )
        archiver("batch", str(DB), str(prompts), "--max-rpm", "600", env=session)
        sent = emulator_stats(url)
        print(
            f"  the emulator answered {sent['prompts']} prompts and issued "
            f"{sent['sentinel_issued']} single-use sentinel tokens ({sent['sentinel_refused']} "
            "refused)"
        )
        heading("Run the same batch again: everything already answered is skipped")
        archiver("batch", str(DB), str(prompts), "--max-rpm", "600", env=session)
        heading("Batch through Bing chat (ChatHub)")
        archiver(
            "batch", str(DB), str(bing_prompts), "--provider", "bing", "--max-rpm", "600", env=bing
        )
        copilot = {"COPILOT_ACCESS_TOKEN": EMULATOR_COPILOT_TOKEN, "COPILOT_BASE_URL": url}
        backup_twice(
            "copilot",
            "Back up Microsoft Copilot (history pages newest first, stored oldest first)",
            env=copilot,
        )
        heading("Batch through Copilot's chat socket (it asks a hashcash proof of work once)")
        copilot_csv = ROOT / "demo" / "copilot-prompts.csv"
        archiver(
            "batch",
            str(DB),
            str(copilot_csv),
            "--provider",
            "copilot",
            "--max-rpm",
            "600",
            env=copilot,
        )
        # Where the emulator's claude.ai is, and the session key its fake accepts.
        claude = emulator_environment("claude", url)
        heading("Back up Claude: every branch, projects, artifacts, pasted text and images")
        archiver("backup", "claude", str(DB), "--max-rpm", "6000", env=claude)
        heading("Back up Claude again: nothing changed, so only the list requests")
        archiver("backup", "claude", str(DB), "--max-rpm", "6000", env=claude)
        heading("Batch through claude.ai's completion stream (a thread continues its parent)")
        claude_csv = ROOT / "demo" / "claude-prompts.csv"
        archiver(
            "batch",
            str(DB),
            str(claude_csv),
            "--provider",
            "claude",
            "--max-rpm",
            "600",
            env=claude,
        )
        gemini = {"GEMINI_COOKIE": EMULATOR_GEMINI_COOKIE, "GEMINI_BASE_URL": url}
        backup_twice(
            "gemini",
            "Back up Google Gemini (both chat lists, every turn and draft, thoughts)",
            env=gemini,
        )
        api = emulator_environment("openai", url)
        heading(
            "Bulk prompts through an OpenAI-compatible API (OpenAI, Azure, OpenRouter, Ollama, "
            "vLLM): paced by its x-ratelimit headers, usage and cost recorded"
        )
        prices = ["--price-in", "0.15", "--price-out", "0.60"]
        api_csv = ROOT / "demo" / "api-prompts.csv"
        model = ["--provider", "openai", "--model", "gpt-4o-mini"]
        archiver("batch", str(DB), str(api_csv), *model, "--concurrency", "4", *prices, env=api)
        heading(
            "The Batch API: one JSONL upload and one batch per model, polled, results mapped "
            "back by custom_id (half the price)"
        )
        batch_csv = ROOT / "demo" / "api-batch-prompts.csv"
        archiver(
            "batch",
            str(DB),
            str(batch_csv),
            *model,
            "--batch-api",
            "--poll-interval",
            "1",
            *prices,
            env=api,
        )
        heading("Its answers with their usage (the latest run)")
        archiver("results", str(DB), "--format", "csv", env={})
    heading("Import a Google Takeout of the same Gemini account (matched to the live chats)")
    archiver("import", str(DB), str(gemini_takeout(ROOT / "demo")), env={})
    heading("Import an official data export (overlapping the live backup)")
    archiver("import", str(DB), str(export), env={})
    heading("Import the data exports of Grok, Le Chat and DeepSeek (told apart by their shape)")
    from demo_exports import write_chat_exports

    for chat_export in write_chat_exports(ROOT / "demo"):
        archiver("import", str(DB), str(chat_export), env={})
    heading("The batch's answers, in input order")
    # Run 2 (the re-run of the same CSV) owns its rows, including those run 1 answered.
    archiver("results", str(DB), "--run", "2", "--format", "csv", env={})
    heading("Full-text search from the command line")
    archiver("search", str(DB), '"write-ahead" OR lisbon', "--limit", "3", env={})

    db = sqlite3.connect(DB)
    show(
        db,
        "Conversations per month",
        "SELECT provider, source, substr(create_time, 1, 7) AS month, count(*) AS conversations "
        "FROM conversations GROUP BY provider, source, month ORDER BY month DESC LIMIT 10",
    )
    show(
        db,
        "The longest conversations (nodes, every branch)",
        "SELECT title, node_count, (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id "
        "AND m.on_current_branch) AS on_branch FROM conversations c ORDER BY node_count DESC LIMIT 5",
    )
    show(
        db,
        "One query across both providers",
        "SELECT provider, count(DISTINCT conversation_id) AS conversations, count(*) AS messages, "
        "sum(role = 'user') AS prompts FROM messages JOIN conversations c ON c.id = conversation_id "
        "GROUP BY provider",
    )
    show(
        db,
        "Claude: branches kept beside the current one",
        "SELECT c.title, count(*) AS messages, sum(m.on_current_branch) AS on_branch "
        "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        "WHERE c.provider = 'claude' AND c.id NOT LIKE 'claude-%' GROUP BY c.id "
        "HAVING messages > on_branch ORDER BY messages DESC LIMIT 5",
    )
    show(
        db,
        "Messages by content type",
        "SELECT content_type, count(*) AS messages FROM messages WHERE content_type IS NOT NULL "
        "GROUP BY content_type ORDER BY messages DESC LIMIT 12",
    )
    show(
        db,
        "Full-text search: 'python'",
        "SELECT c.title, m.role, snippet(messages_fts, 0, '[', ']', '…', 8) AS hit "
        "FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid "
        "JOIN conversations c ON c.id = m.conversation_id "
        "WHERE messages_fts MATCH 'python' ORDER BY rank LIMIT 5",
    )
    show(
        db,
        "Projects and their conversations",
        "SELECT p.emoji, p.name, count(c.id) AS conversations FROM projects p "
        "LEFT JOIN conversations c ON c.gizmo_id = p.id GROUP BY p.id ORDER BY p.name",
    )
    show(
        db,
        "Files messages point at, by download status (stored in demo.db.files/)",
        "SELECT coalesce(download_status, 'not a file id') AS status, count(*) AS pointers, "
        "count(DISTINCT sha256) AS files, sum(size_bytes) AS bytes FROM attachments "
        "GROUP BY status",
    )
    heading("Done")
    print(f"  The archive is {DB.name}. Explore it with:")
    print(f"    sqlite3 {DB.name}")
    print(f"    .venv/bin/pip install datasette && .venv/bin/datasette {DB.name} -m metadata.json")


if __name__ == "__main__":
    main()
