"""docs/jobs.md lists every job key as the code declares it."""

from __future__ import annotations

from pathlib import Path

from archiver.jobs.reference import reference

DOC = Path(__file__).parents[2] / "docs" / "jobs.md"


def test_the_job_reference_in_the_docs_is_current():
    assert reference() in DOC.read_text(encoding="utf-8"), (
        "docs/jobs.md is stale: run `.venv/bin/python scripts/update_job_reference.py`"
    )
