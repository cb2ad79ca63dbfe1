"""The text generated from the code is current in the docs (README's providers, docs/jobs.md's
job keys, metadata.json), and the check notices a page that drifted."""

from __future__ import annotations

import shutil
from pathlib import Path

from archiver.cli.generated import GENERATED, PROVIDERS_BEGIN, regenerate, stale
from archiver.jobs.reference import reference

ROOT = Path(__file__).parents[2]


def test_every_generated_page_is_current():
    assert stale(ROOT) == [], "stale: run `.venv/bin/python scripts/generate_docs.py`"


def test_the_job_reference_lists_every_kind():
    text = (ROOT / "docs" / "jobs.md").read_text(encoding="utf-8")
    assert reference() in text
    assert '#### `kind = "backup chatgpt"`' in text and '#### `kind = "batch"`' in text


def test_a_drifted_page_is_found_and_rewritten(tmp_path):
    for generated in GENERATED:
        (tmp_path / generated.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / generated.path, tmp_path / generated.path)
    readme = tmp_path / "README.md"
    readme.write_text(readme.read_text().replace(PROVIDERS_BEGIN, PROVIDERS_BEGIN + "\nstale"))
    assert stale(tmp_path) == ["README.md"]
    assert regenerate(tmp_path) == ["README.md"]
    assert stale(tmp_path) == []
