"""Rewrite the text generated from the code (README's provider table, docs/jobs.md's job keys,
metadata.json's provider facts). ``--check``: change nothing, exit 1 naming what is stale.

Run: .venv/bin/python scripts/generate_docs.py [--check]"""

from __future__ import annotations

import sys
from pathlib import Path

from archiver.cli.generated import regenerate, stale

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        drifted = stale(ROOT)
        for path in drifted:
            print(f"{path} is stale: run .venv/bin/python scripts/generate_docs.py")
        return 1 if drifted else 0
    for path in regenerate(ROOT):
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
