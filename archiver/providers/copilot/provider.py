"""Everything the rest of archiver needs to know about Copilot, in one place: the one module
a provider registry (or, until it lands, the CLI, the batch runner, the job kinds and the
doctor) imports. Nothing outside this package needs another Copilot name."""

from __future__ import annotations

from archiver.providers.copilot.backup import DEFAULT_BACKUP_RPM, backup_copilot
from archiver.providers.copilot.chat import MODES
from archiver.providers.copilot.client import PROVIDER, CopilotSettings
from archiver.providers.copilot.doctor import check_copilot
from archiver.providers.copilot.jobs import BATCH_OPTIONS as JOB_BATCH_OPTIONS
from archiver.providers.copilot.jobs import KIND as JOB_KIND
from archiver.providers.copilot.jobs import OPTIONS as JOB_OPTIONS
from archiver.providers.copilot.jobs import run_job, settings_for
from archiver.providers.copilot.sender import DEFAULT_BATCH_RPM, CopilotProvider

NAME = PROVIDER
SECRET_WHAT = "token"  # what doctor calls the credential
settings_from_env = CopilotSettings.from_env

__all__ = [
    "DEFAULT_BACKUP_RPM",
    "DEFAULT_BATCH_RPM",
    "JOB_BATCH_OPTIONS",
    "JOB_KIND",
    "JOB_OPTIONS",
    "MODES",
    "NAME",
    "SECRET_WHAT",
    "CopilotProvider",
    "CopilotSettings",
    "backup_copilot",
    "check_copilot",
    "run_job",
    "settings_for",
    "settings_from_env",
]
