"""`archiver serve` in front of the emulator, each its own process, the clients here.

1. Added latency: the same prompts one at a time, (a) straight to the emulator's
   ``POST /backend-api/conversation`` (the whole SSE answer read, as any client of the upstream
   would) and (b) through the gateway's ``POST /v1/chat/completions`` (which sends that same
   request, parses it, archives the exchange and answers). Reported: p50 and p95 of each and of
   the difference. The upstream answers at once (no latency), so the difference is the
   gateway's own cost.
2. 100 concurrent clients on one account, each with its own key: the gateway paces the account
   at ``--max-rpm`` with ``--concurrency`` answers in flight and ``--max-queue`` waiting; the
   emulator's allowance is that same rate (so any burst above it would be answered 429).
   - one shot: every client asks once at the same moment: each is answered or told to retry
     (429, Retry-After, a body saying the limit is the gateway's), nothing else;
   - retrying: every client retries after Retry-After until answered: all answered, no prompt
     sent upstream twice, the queue never longer than its bound (from the archive's
     ``gateway_exchanges`` intervals), upstream requests in any window never above what the
     limiter allows (``burst + rate × window``) and no 429 from upstream.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from common import ARCHIVER, EMULATOR_TOKEN, Report, emulator, emulator_stats

from archiver.providers.chatgpt.options import ROOT_PARENT
from archiver.providers.chatgpt.stream import build_request
from archiver.serve.keys import add_key
from archiver.store import open_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gateway(db: Path, upstream: str, *flags: str) -> Iterator[str]:
    """``archiver serve`` on a free port in front of the emulator; yields its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHATGPT_", "BING_"))}
    env.update(CHATGPT_ACCESS_TOKEN=EMULATOR_TOKEN, CHATGPT_BASE_URL=f"{upstream}/backend-api")
    command = [*ARCHIVER, "serve", str(db), "--port", str(port), "--provider", "chatgpt", *flags]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise SystemExit(f"archiver serve did not start: {process.stderr.read()!r}")  # type: ignore[union-attr]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("archiver serve never listened") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=60)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def upstream_body(prompt: str) -> dict[str, Any]:
    """The request the ChatGPT sender makes for a new conversation (its essentials)."""
    return build_request(prompt, parent_message_id=ROOT_PARENT, model="auto")


def ask_gateway(session: aiohttp.ClientSession, url: str, key: str, prompt: str) -> Any:
    """One plain ``POST /v1/chat/completions`` of ``prompt`` (use as ``async with``)."""
    return session.post(
        f"{url}/v1/chat/completions",
        json={"model": "auto", "messages": [{"role": "user", "content": prompt}]},
        headers={"Authorization": f"Bearer {key}"},
    )


# --- 1. added latency --------------------------------------------------------------------------


async def latency_run(upstream: str, gateway_url: str, key: str, count: int) -> dict[str, Any]:
    direct: list[float] = []
    through: list[float] = []
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {EMULATOR_TOKEN}", "Accept": "text/event-stream"}
        for i in range(count + 10):  # the first 10 of each warm up connections and caches
            prompt = f"Latency prompt {i}"
            started = time.perf_counter()
            async with session.post(
                f"{upstream}/backend-api/conversation", json=upstream_body(prompt), headers=headers
            ) as response:
                await response.read()
                assert response.status == 200, response.status
            direct_s = time.perf_counter() - started
            started = time.perf_counter()
            async with ask_gateway(session, gateway_url, key, prompt) as response:
                body = await response.json()
                assert response.status == 200, body
            through_s = time.perf_counter() - started
            if i >= 10:
                direct.append(direct_s * 1000)
                through.append(through_s * 1000)
    added = [t - d for t, d in zip(through, direct, strict=True)]
    return {
        "requests": count,
        "direct_p50_ms": round(percentile(direct, 0.5), 2),
        "direct_p95_ms": round(percentile(direct, 0.95), 2),
        "gateway_p50_ms": round(percentile(through, 0.5), 2),
        "gateway_p95_ms": round(percentile(through, 0.95), 2),
        "added_p50_ms": round(percentile(added, 0.5), 2),
        "added_p95_ms": round(percentile(added, 0.95), 2),
        "added_mean_ms": round(statistics.fmean(added), 2),
    }


# --- 2. 100 clients on one account -------------------------------------------------------------


async def one_client(
    session: aiohttp.ClientSession, url: str, key: str, prompt: str, retry: bool
) -> dict[str, Any]:
    attempts = 0
    refusals: list[dict[str, Any]] = []
    while True:
        attempts += 1
        async with ask_gateway(session, url, key, prompt) as response:
            body = await response.json()
            if response.status == 200:
                text = body["choices"][0]["message"]["content"]
                return {
                    "status": 200,
                    "attempts": attempts,
                    "ok": prompt in text,
                    **{"refusals": refusals},
                }
            refusal = {
                "status": response.status,
                "retry_after": response.headers.get("Retry-After"),
                "type": body.get("error", {}).get("type"),
                "says_gateway": "a limit of this gateway"
                in body.get("error", {}).get("message", ""),
            }
            refusals.append(refusal)
            if response.status != 429 or not retry:
                return {"status": response.status, "attempts": attempts, "refusals": refusals}
            await asyncio.sleep(float(response.headers.get("retry-after-ms", "1000")) / 1000)


async def crowd(url: str, keys: list[str], retry: bool, tag: str) -> list[dict[str, Any]]:
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        return await asyncio.gather(
            *(
                one_client(session, url, key, f"{tag} client {i} asks its question", retry)
                for i, key in enumerate(keys)
            )
        )


def parse_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best


def max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best


def upstream_posts(upstream: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{upstream}/_emulator/requests") as response:
        log = json.load(response)
    return [r for r in log if r["method"] == "POST" and r["path"].endswith("/conversation")]


def crowd_run(
    tmp: Path, clients: int, rpm: float, concurrency: int, max_queue: int, latency_ms: int
) -> dict[str, Any]:
    db_path = tmp / "crowd.db"
    db = open_db(db_path)
    keys = [add_key(db, f"client{i}") for i in range(clients)]
    db.close()
    flags = ["--rate-limit", str(int(rpm)), "--rate-burst", "2", "--latency-ms", str(latency_ms)]
    with emulator(*flags, "--conversations", "0", "--bing-chats", "0") as upstream:
        serve_flags = [
            "--max-rpm",
            str(rpm),
            "--concurrency",
            str(concurrency),
            "--max-queue",
            str(max_queue),
        ]
        with gateway(db_path, upstream, *serve_flags) as url:
            started = time.monotonic()
            once = asyncio.run(crowd(url, keys, retry=False, tag="once"))
            once_s = time.monotonic() - started
            # Let the first crowd's answers finish before the second comes.
            time.sleep(2 + (concurrency + max_queue) * 60 / rpm)
            started = time.monotonic()
            retried = asyncio.run(crowd(url, keys, retry=True, tag="retry"))
            retried_s = time.monotonic() - started
        stats = emulator_stats(upstream)
        posts = upstream_posts(upstream)
    conn = sqlite3.connect(db_path)
    rows = conn.execute(
        "SELECT prompt, status, started_at, finished_at FROM gateway_exchanges"
    ).fetchall()
    conn.close()
    intervals = [(parse_time(s), parse_time(f)) for _, _, s, f in rows if f]
    done_prompts = [p for p, status, _, _ in rows if status == "done"]
    rate = rpm / 60.0
    windows = {w: max_in_window([p["time"] for p in posts], w) for w in (1.0, 5.0, 10.0)}
    allowed = {w: int(1 + rate * w) for w in windows}  # the limiter's burst (1) + rate × window
    once_answered = sum(r["status"] == 200 for r in once)
    once_told = sum(
        r["status"] == 429
        and r["refusals"][-1]["retry_after"]
        and r["refusals"][-1]["says_gateway"]
        for r in once
    )
    return {
        "clients": clients,
        "max_rpm": rpm,
        "concurrency": concurrency,
        "max_queue": max_queue,
        "upstream_latency_ms": latency_ms,
        "once.answered": once_answered,
        "once.told_to_retry": once_told,
        "once.other": clients - once_answered - once_told,
        "once.seconds": round(once_s, 2),
        "retry.answered": sum(r["status"] == 200 and r["ok"] for r in retried),
        "retry.not_answered": sum(r["status"] != 200 for r in retried),
        "retry.attempts_mean": round(statistics.fmean(r["attempts"] for r in retried), 2),
        "retry.attempts_max": max(r["attempts"] for r in retried),
        "retry.refusals_not_saying_gateway": sum(
            not f["says_gateway"] for r in retried for f in r["refusals"]
        ),
        "retry.seconds": round(retried_s, 2),
        "retry.answers_per_minute": round(60 * clients / retried_s, 1),
        "max_pending": max_overlap(intervals),
        "pending_bound": concurrency + max_queue,
        "upstream_posts": len(posts),
        "archived_done": len(done_prompts),
        # A prompt answered twice in the archive, or upstream answering more prompts than
        # the archive has distinct ones (a retry that re-sent one).
        "duplicates": (len(done_prompts) - len(set(done_prompts)))
        + max(0, stats["prompts"] - len(set(done_prompts))),
        "upstream_429": stats["rate_limited"],
        **{f"upstream_max_in_{int(w)}s": n for w, n in windows.items()},
        **{f"limiter_allows_in_{int(w)}s": n for w, n in allowed.items()},
        "windows_ok": all(windows[w] <= allowed[w] for w in windows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="latency samples")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--max-rpm", type=float, default=600.0)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--max-queue", type=int, default=16)
    parser.add_argument("--latency-ms", type=int, default=50, help="upstream latency (crowd)")
    args = parser.parse_args()
    report = Report("serve")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        db_path = tmp / "latency.db"
        db = open_db(db_path)
        key = add_key(db, "bench")
        db.close()
        with (
            emulator("--conversations", "0", "--bing-chats", "0") as upstream,
            gateway(db_path, upstream, "--max-rpm", "1000000", "--key-rpm", "0") as url,
        ):
            latency = asyncio.run(latency_run(upstream, url, key, args.requests))
        crowd_figures = crowd_run(
            tmp, args.clients, args.max_rpm, args.concurrency, args.max_queue, args.latency_ms
        )
    report.figures.update({f"latency.{k}": v for k, v in latency.items()})
    report.figures.update({f"crowd.{k}": v for k, v in crowd_figures.items()})
    c = crowd_figures
    report.check(
        "added latency per request, p50 (ms)",
        latency["added_p50_ms"],
        "≤ 25",
        latency["added_p50_ms"] <= 25,
    )
    report.check(
        "added latency per request, p95 (ms)",
        latency["added_p95_ms"],
        "≤ 50",
        latency["added_p95_ms"] <= 50,
    )
    report.check(
        f"{c['clients']} clients at once: neither answered nor told to retry",
        c["once.other"],
        "0",
        c["once.other"] == 0,
    )
    report.check(
        f"{c['clients']} retrying clients: not answered",
        c["retry.not_answered"],
        "0",
        c["retry.not_answered"] == 0,
    )
    report.check(
        "longest queue (in flight + waiting)",
        c["max_pending"],
        f"≤ {c['pending_bound']}",
        c["max_pending"] <= c["pending_bound"],
    )
    report.check("duplicates sent upstream", c["duplicates"], "0", c["duplicates"] == 0)
    report.check(
        "upstream requests in any 1/5/10 s window",
        f"{c['upstream_max_in_1s']}/{c['upstream_max_in_5s']}/{c['upstream_max_in_10s']}",
        f"≤ {c['limiter_allows_in_1s']}/{c['limiter_allows_in_5s']}/{c['limiter_allows_in_10s']}",
        bool(c["windows_ok"]),
    )
    report.check("429 answers from upstream", c["upstream_429"], "0", c["upstream_429"] == 0)
    report.emit()


if __name__ == "__main__":
    main()
