"""``archiver schedule``: crontab lines or systemd units that run job files on their schedule.

Everything is absolute (the archiver executable, the job file, the log), so the lines work from
cron's bare environment without ``cd``. Credentials are never written here: a job names an
environment variable or a 0600 file, and the variable must come from a systemd EnvironmentFile
or a wrapper script."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from archiver.errors import ConfigError
from archiver.jobs.config import JobConfig, load_job
from archiver.jobs.cron import CronSchedule, to_on_calendar


def archiver_command() -> list[str]:
    """How to start this very archiver from anywhere: the console script next to the running
    interpreter (a virtualenv's bin/), else the one on PATH, else ``python -m archiver``."""
    python = Path(os.path.abspath(sys.executable))  # not resolved: a venv's python is a symlink
    beside = python.parent / "archiver"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("archiver")
    if found:
        return [os.path.abspath(found)]
    return [str(python), "-m", "archiver"]


def default_log_dir() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state).expanduser().absolute() / "archiver"


def default_env_file() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config).expanduser().absolute() / "archiver" / "env"


def _require_schedule(job: JobConfig) -> CronSchedule:
    if job.schedule is None:
        raise ConfigError(f"{job.path}: no 'schedule' key: nothing to schedule")
    return job.schedule


def run_arguments(job: JobConfig, command: list[str], log_file: Path) -> list[str]:
    return [*command, "run", "-q", "--log-file", str(log_file), str(job.path)]


def _credentials_comment(job: JobConfig) -> str | None:
    needed = job.needed_env_vars()
    if not needed:
        return None
    return f"#   needs {', '.join(needed)} in its environment (see above)"


def crontab_text(
    jobs: list[JobConfig], *, log_dir: Path | None = None, command: list[str] | None = None
) -> str:
    """Crontab lines, one per job, with comment lines saying how credentials reach the job."""
    log_dir = (log_dir or default_log_dir()).absolute()
    command = command or archiver_command()
    env_file = default_env_file()
    lines = [
        "# archiver jobs (from `archiver schedule`): add with `crontab -e`.",
        "# Credentials are NOT in these lines and must never be: cron starts jobs with an almost",
        "# empty environment, so a job reading token_env needs the variable from a wrapper, e.g.",
        f"#   /bin/sh -c 'set -a; . {env_file}; exec ...'   ({env_file} mode 0600),",
        "# or point token_file in the job at a 0600 file. Exit codes: docs/jobs.md.",
        "# Each job logs to its --log-file; cron mails what a job prints, i.e. only its errors.",
        f"# Create the log directory once: mkdir -p {shlex.quote(str(log_dir))}",
    ]
    for job in jobs:
        schedule = _require_schedule(job)
        log_file = log_dir / f"{job.name}.log"
        args = run_arguments(job, command, log_file)
        # No redirection: --log-file writes the log (created 0600; a shell's >> would create it
        # 0644 first, and copy every line twice). With -q a job prints only when something went
        # wrong, so cron mails exactly those lines.
        line = " ".join(shlex.quote(a) for a in args)
        lines.append(
            f"# {job.name} ({job.kind}){': ' + job.description if job.description else ''}"
        )
        if note := _credentials_comment(job):
            lines.append(note)
        # In a crontab line an unescaped % ends the command.
        lines.append(f"{schedule.fields_text} {line.replace('%', chr(92) + '%')}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class UnitFiles:
    service_name: str
    service: str
    timer_name: str
    timer: str


_SAFE_UNIT_CHARS = re.compile(r"[^A-Za-z0-9:_.-]")
_SAFE_EXEC_ARG = re.compile(r"^[A-Za-z0-9_./:@+=,-]+$")


def unit_base_name(job: JobConfig) -> str:
    return "archiver-" + _SAFE_UNIT_CHARS.sub("-", job.name)


def _systemd_arg(arg: str) -> str:
    """Quote one ExecStart argument; ``%`` and ``$`` are systemd specifiers/variables."""
    if not _SAFE_EXEC_ARG.match(arg):
        arg = '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return arg.replace("%", "%%").replace("$", "$$")


def randomized_delay(schedule: CronSchedule) -> str:
    """Spread runs of many machines a little; much less for jobs that run several times an hour."""
    return "30s" if len(schedule.minute.values) > 1 else "5min"


def systemd_units(
    job: JobConfig,
    *,
    log_dir: Path | None = None,
    command: list[str] | None = None,
    env_file: Path | None = None,
) -> UnitFiles:
    """A oneshot service and its timer. ConfigError if the schedule has no OnCalendar form."""
    schedule = _require_schedule(job)
    try:
        on_calendar = to_on_calendar(schedule)
    except ConfigError as exc:
        raise ConfigError(f"{job.path}: {exc}") from None
    log_dir = (log_dir or default_log_dir()).absolute()
    env_file = env_file or default_env_file()
    base = unit_base_name(job)
    exec_start = " ".join(
        _systemd_arg(a)
        for a in run_arguments(job, command or archiver_command(), log_dir / f"{job.name}.log")
    )
    needed = job.needed_env_vars()
    service = "\n".join(
        [
            f"# {base}.service (from `archiver schedule --systemd`)",
            "# Install for your user: copy this file and the .timer to ~/.config/systemd/user/, then",
            f"#   systemctl --user daemon-reload && systemctl --user enable --now {base}.timer",
            '#   loginctl enable-linger "$USER"   # so it runs while you are logged out',
            "[Unit]",
            f"Description=archiver job {job.name} ({job.kind})",
            "",
            "[Service]",
            "Type=oneshot",
            "# Credentials never go in unit files. Put VAR=value lines in this file, mode 0600"
            + (f" (this job reads {', '.join(needed)})." if needed else "."),
            f"EnvironmentFile=-{env_file}",
            "# Log lines go to --log-file (0600); what the job prints (with -q: only its errors)",
            "# goes to the journal, as cron would mail it.",
            f"ExecStart={exec_start}",
            "# 75: another run held the database lock and nothing was touched; the next run catches up.",
            "SuccessExitStatus=75",
            "Nice=10",
            "",
        ]
    )
    timer = "\n".join(
        [
            f"# {base}.timer: cron schedule {schedule.expression!r}, in local time like cron.",
            "[Unit]",
            f"Description=Schedule of archiver job {job.name}",
            "",
            "[Timer]",
            f"OnCalendar={on_calendar}",
            "# Catch up on a run missed while the machine was off or asleep.",
            "Persistent=true",
            f"RandomizedDelaySec={randomized_delay(schedule)}",
            f"Unit={base}.service",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
        ]
    )
    return UnitFiles(f"{base}.service", service, f"{base}.timer", timer)


def systemd_text(
    jobs: list[JobConfig],
    *,
    log_dir: Path | None = None,
    command: list[str] | None = None,
    env_file: Path | None = None,
) -> str:
    """Every unit file, each after a ``# ---- name ----`` header, for printing."""
    parts = []
    for job in jobs:
        units = systemd_units(job, log_dir=log_dir, command=command, env_file=env_file)
        parts.append(f"# ---- {units.service_name} ----\n{units.service}")
        parts.append(f"# ---- {units.timer_name} ----\n{units.timer}")
    return "\n".join(parts)


def write_systemd_units(
    jobs: list[JobConfig],
    directory: Path,
    *,
    log_dir: Path | None = None,
    command: list[str] | None = None,
    env_file: Path | None = None,
) -> list[Path]:
    """Write each job's .service and .timer into ``directory``; return the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for job in jobs:
        units = systemd_units(job, log_dir=log_dir, command=command, env_file=env_file)
        for name, content in ((units.service_name, units.service), (units.timer_name, units.timer)):
            target = directory / name
            target.write_text(content, encoding="utf-8")
            written.append(target)
    return written


def schedule_text(
    paths: list[str],
    *,
    systemd: bool = False,
    log_dir: str | None = None,
    output_dir: str | None = None,
) -> str:
    """What ``archiver schedule`` prints: crontab lines, the systemd units, or (with
    ``output_dir``) the list of unit files written there."""
    jobs = [load_job(p) for p in paths]
    logs = Path(log_dir).expanduser().absolute() if log_dir else None
    if output_dir is not None:
        if not systemd:
            raise ConfigError("--output-dir writes systemd units: use it with --systemd")
        written = write_systemd_units(jobs, Path(output_dir).expanduser(), log_dir=logs)
        return "\n".join(f"wrote {path}" for path in written)
    if systemd:
        return systemd_text(jobs, log_dir=logs)
    return crontab_text(jobs, log_dir=logs)
