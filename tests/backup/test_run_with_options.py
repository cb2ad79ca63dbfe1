"""The common backup values reach a provider's backup function, and Copilot's own (its images)
beside them."""

from __future__ import annotations

from typing import Any

from archiver.backup.options import BackupRun
from archiver.backup.public_files import files_rpm
from archiver.providers.copilot.options import BACKUP_OPTIONS as COPILOT_OPTIONS
from archiver.providers.copilot.options import IMAGE_RPM

VALUES: dict[str, Any] = {
    "full": True,
    "force": True,
    "concurrency": 3,
    "max_rpm": 200.0,
    "max_wait": 7.0,
    "timeout": 9.0,
}


def test_common_values_reach_the_backup() -> None:
    seen = BackupRun.from_values(VALUES, None)
    options = seen.options
    assert options is not None
    assert (options.full, options.force, options.concurrency) == (True, True, 3)
    assert seen.pace.max_rpm == 200.0
    assert seen.pace.policy is not None
    assert seen.pace.policy.max_wait == 7.0
    assert seen.pace.timeout_seconds == 9.0


def test_file_options_reach_the_download_of_public_files() -> None:
    seen = BackupRun.from_values({**VALUES, "no_files": True, "max_file_mb": 2}, None)
    assert seen.files.download is False
    assert seen.files.max_bytes == 2 * 1024 * 1024
    assert files_rpm(seen.pace, IMAGE_RPM) == 200.0  # a faster account pace lifts the image pace
    slow = BackupRun.from_values({**VALUES, "max_rpm": 10.0}, None)
    assert (slow.files.download, slow.files.max_bytes) == (True, None)
    assert files_rpm(slow.pace, IMAGE_RPM) == IMAGE_RPM  # never lowers it
    assert {"force", "max_wait"} <= set(COPILOT_OPTIONS)
