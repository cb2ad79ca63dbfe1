"""`make e2e`: the viewer in a real headless Chromium (skipped when none is installed).

Starts the emulator and `archiver serve` as processes and makes a conversation with a branch
through seed 004's routes: a question, a follow-up, then an edited follow-up. Then it loads `/`
and `/c/{id}` in Chromium and checks the DOM that the browser built, scripts run: the list, the
current branch, the `data-branch` switchers, and no script error or Content-Security-Policy
refusal in the console. It also leaves a screenshot in bench/out/viewer.png. This is not part
of `make test`: it needs a browser and takes seconds.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
ARCHIVER = [sys.executable, "-m", "archiver"]
BROWSERS = ("chromium", "chromium-browser", "chromium-headless-shell", "google-chrome")


def browser() -> str | None:
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(url: str, key: str, body: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)["response"]
    assert isinstance(answer, dict)
    return answer


def chromium(binary: str, *args: str) -> subprocess.CompletedProcess[str]:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]
    return subprocess.run(
        [binary, *flags, *args], capture_output=True, text=True, timeout=60, check=False
    )


def main() -> int:
    binary = browser()
    if binary is None:
        print("e2e: skipped (no headless Chromium; e.g. apt-get install chromium-headless-shell)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "e2e.db"
        key = subprocess.run(
            [*ARCHIVER, "keys", "add", str(db), "e2e"], capture_output=True, text=True, check=True
        ).stdout.strip()
        emulator = subprocess.Popen(
            [*ARCHIVER, "emulator", "--port", "0", "--conversations", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        serve = None
        try:
            assert emulator.stdout is not None
            upstream = emulator.stdout.readline().strip().removeprefix("emulator ready ")
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith(("CHATGPT_", "BING_"))}
            env.update(
                CHATGPT_ACCESS_TOKEN="emulator-token", CHATGPT_BASE_URL=f"{upstream}/backend-api"
            )
            serve = subprocess.Popen(
                [*ARCHIVER, "serve", str(db), "--port", str(port), "--max-rpm", "600"],
                env=env,
                stderr=subprocess.DEVNULL,
            )
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            first = post(f"{base}/conversations/new", key, {"prompt": "Plan a **garden**"})
            cid = str(first["conversation_id"])
            post(f"{base}/conversations/{cid}/ask", key, {"prompt": "Which flowers?"})
            post(
                f"{base}/conversations/{cid}/ask",
                key,
                {"prompt": "Which vegetables? (edited)", "parent_id": first["parent_id"]},
            )
            listing = chromium(binary, "--dump-dom", f"{base}/")
            page = chromium(binary, "--dump-dom", f"{base}/c/{cid}")
            OUT.mkdir(parents=True, exist_ok=True)
            shot = OUT / "viewer.png"
            chromium(binary, f"--screenshot={shot}", "--window-size=1100,900", f"{base}/c/{cid}")
        finally:
            for process in (serve, emulator):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=60)
    failures = []
    if f'href="/c/{cid}"' not in listing.stdout:
        failures.append("the list does not link the conversation")
    switchers = re.findall(r'data-branch="([^"]+)"', page.stdout)
    if switchers != ["2/2"]:
        failures.append(f"switchers {switchers}, expected ['2/2'] on the edited prompt")
    if "Which vegetables? (edited)" not in page.stdout or "Which flowers?" in page.stdout:
        failures.append("the page does not show the current branch only")
    if "<strong>garden</strong>" not in page.stdout:
        failures.append("Markdown was not rendered")
    for result in (listing, page):
        # A script error, or anything of our own pages the Content-Security-Policy blocked
        # (the stylesheet's hash, the script file): the policy must cost the viewer nothing.
        errors = [
            line
            for line in result.stderr.splitlines()
            if "Uncaught" in line or "Content Security Policy" in line
        ]
        failures += [f"console: {line}" for line in errors]
    if not shot.exists():
        failures.append("no screenshot")
    for failure in failures:
        print(f"e2e: FAIL {failure}")
    if not failures:
        print(f"e2e: ok ({Path(binary).name}; list, current branch, switchers {switchers}; {shot})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
