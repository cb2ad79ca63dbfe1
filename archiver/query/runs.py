"""What ``archiver runs DB`` shows: the latest runs and the cool-downs still in force.

The question a cron user asks the morning after ("did last night's backup work, and if not,
why?") without opening sqlite3. Reads only; the rows are written by the run recorder."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from archiver.store.runs import recent_runs
from archiver.timeutil import to_datetime


@dataclass(frozen=True)
class RunHistory:
    runs: list[dict[str, Any]]
    cooldowns: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "cooldowns": self.cooldowns}

    def lines(self) -> list[str]:
        if not self.runs:
            out = ["no runs recorded yet"]
        else:
            out = [f"{'id':>5}  {'started (UTC)':<19}  {'job':<24} {'status':<11} exit  counts"]
            out.extend(_run_line(run) for run in self.runs)
        for cooldown in self.cooldowns:
            out.append(
                f"cool-down: {cooldown['provider']} ({cooldown['account']}) until "
                f"{cooldown['until']}: {cooldown['reason']}"
            )
        return out


def _run_line(run: dict[str, Any]) -> str:
    counts = json.loads(run["counts_json"]) if run.get("counts_json") else {}
    shown = ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "-"
    started = (run["started_at"] or "")[:19].replace("T", " ")
    exit_code = "" if run["exit_code"] is None else str(run["exit_code"])
    line = f"{run['id']:>5}  {started:<19}  {run['job'] or run['kind']:<24} "
    line += f"{run['status']:<11} {exit_code:>4}  {shown}"
    if run.get("error"):
        line += f"\n{'':>7}{run['error'].splitlines()[0]}"
    return line


def run_history(db: sqlite3.Connection, *, job: str | None = None, limit: int = 20) -> RunHistory:
    now = datetime.now(tz=UTC)
    cooldowns = []
    for provider, account, until, reason in db.execute(
        "SELECT provider, account, until, reason FROM cooldowns ORDER BY until"
    ).fetchall():
        ends = to_datetime(until)
        if ends is not None and ends > now:
            cooldowns.append(
                {"provider": provider, "account": account, "until": until, "reason": reason}
            )
    return RunHistory(recent_runs(db, job=job, limit=limit), cooldowns)
