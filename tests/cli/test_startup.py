"""Commands that never touch the network start without loading the network stack: aiohttp
costs about a sixth of a second of every start, which is most of a search's wall time."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # starts a fresh interpreter


@pytest.mark.parametrize("module", ["archiver.cli.importing", "archiver.cli.query"])
def test_local_commands_do_not_load_aiohttp(module):
    probe = (
        "import sys, importlib; importlib.import_module(sys.argv[1]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aiohttp'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, module], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
