"""No import cycles in archiver/, counting every import statement (lazy and TYPE_CHECKING
ones too): providers import the engines' types, engines reach providers only by name."""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
checker = runpy.run_path(str(ROOT / "scripts" / "check_cycles.py"))


def test_archiver_has_no_import_cycle():
    assert checker["find_cycles"](checker["package_graph"](ROOT / "archiver")) == []


def test_the_checker_sees_lazy_and_type_checking_cycles(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from pkg import b\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import f\n"
    )
    (pkg / "c.py").write_text("from pkg import a\n")
    assert checker["find_cycles"](checker["package_graph"](pkg)) == [["pkg.a", "pkg.b"]]
