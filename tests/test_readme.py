"""Smaller list: the README's cron line has no shell redirection into a log (docs/jobs.md
advises against it), and its datasette line names a database the metadata applies to."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cron_lines_do_not_redirect_into_a_log():
    readme = (ROOT / "README.md").read_text()
    cron_lines = [line for line in readme.splitlines() if re.match(r"^[0-9*]+ [0-9*]+ ", line)]
    assert cron_lines
    assert not [line for line in cron_lines if ">>" in line]


def test_datasette_lines_use_the_database_name_the_metadata_describes():
    readme = (ROOT / "README.md").read_text()
    databases = set(json.loads((ROOT / "metadata.json").read_text())["databases"])
    for match in re.finditer(r"datasette (\S+) -m metadata\.json", readme):
        assert Path(match[1]).stem in databases, match[0]


def test_shared_help_names_exit_3():
    from click.testing import CliRunner

    from archiver.cli import cli

    result = CliRunner().invoke(cli, ["shared", "--help"])
    assert "3 stopped by a challenge page or a throttle" in " ".join(result.output.split())
