"""What a run of downloads into the file store did: ChatGPT's files and Copilot's images are
counted the same way, and a backup's summary shows them under the kind's prefix."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from archiver.errors import ArchiverError


@dataclass
class DownloadSummary:
    stored: int = 0  # downloaded this run
    gone: int = 0  # upstream no longer has it (marked, never retried)
    failed: int = 0  # retried next run
    too_large: int = 0  # over the size limit: not stored
    errors: list[str] = field(default_factory=list)
    aborted: ArchiverError | None = None  # stopped early (a challenge, a full disk)

    def counts(self, prefix: str) -> dict[str, int]:
        """Every count, named ``<prefix>_<field>``, for a backup summary's extra counts."""
        counts = {f"{prefix}_{f.name}": getattr(self, f.name) for f in fields(self)}
        # By value, not by annotation (a string or a type, depending on the module's imports).
        return {
            name: value
            for name, value in counts.items()
            if isinstance(value, int) and not isinstance(value, bool)
        }
