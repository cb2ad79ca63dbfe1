"""archiver's layering, counting every import statement (lazy and TYPE_CHECKING ones too):
no cycle between modules or between units, and imports only go down the ranks (commands →
providers → engines → store → flatten → transport → base), and no provider imports another."""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
checker = runpy.run_path(str(ROOT / "scripts" / "check_cycles.py"))


def test_archiver_is_layered():
    assert checker["layering_problems"](ROOT / "archiver") == []


def test_the_checker_sees_an_import_up_the_ranks(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "store").mkdir(parents=True)
    (pkg / "cli").mkdir()
    for init in (pkg / "__init__.py", pkg / "store" / "__init__.py", pkg / "cli" / "__init__.py"):
        init.write_text("")
    (pkg / "cli" / "main.py").write_text("from pkg.store import db\n")
    (pkg / "store" / "db.py").write_text("def f():\n    from pkg.cli import main\n")
    problems = checker["layering_problems"](pkg)
    assert "store imports cli, a higher rank: pkg.store.db -> pkg.cli.main" in problems
    assert "unit cycle: cli <-> store" in problems


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


def test_the_checker_sees_a_provider_importing_another(tmp_path):
    pkg = tmp_path / "pkg"
    for folder in ("providers", "providers/one", "providers/two"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "providers" / "one" / "canvas.py").write_text("def save():\n    pass\n")
    (pkg / "providers" / "two" / "backup.py").write_text("from pkg.providers.one import canvas\n")
    problems = checker["layering_problems"](pkg)
    assert "providers.two imports providers.one: share it through a lower rank" in problems
