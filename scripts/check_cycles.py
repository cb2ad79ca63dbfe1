"""Check archiver's layering: every import statement counts, at module level or inside a
function, under ``TYPE_CHECKING`` or not.

1. No import cycle between modules.
2. No import cycle between units (a unit is a package of archiver, each provider's package, or
   one top-level module).
3. Imports only go down the ranks (``RANKS``): the commands on top, then the providers, then
   the engines, the store, the pure flatteners, the transport, and the base modules everything
   may use. A unit may import its own rank and the ranks below it.
4. A provider's package never imports another provider's: what two providers share belongs
   to a rank below them (the engines, the store, flatten, transport).

Exit 1 and print each problem when there is one. Run: python scripts/check_cycles.py [dir]"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """Modules of the package that ``path`` imports (``from pkg import mod`` counts as mod)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import mod`` is an import of pkg.mod, as ``import pkg.mod`` is; only
            # a name that is not a module (a function, a class) makes it an import of pkg.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            # the longest known module the target names (an attribute import names its module)
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def package_graph(root: Path) -> dict[str, set[str]]:
    files = {module_name(path, root): path for path in root.rglob("*.py")}
    known = set(files)
    graph = {name: imports_of(path, name, known) for name, path in files.items()}
    # Importing a.b runs a/__init__ first, but no statement says so: like ``import a.b``,
    # that implicit edge is left out; what an __init__ itself imports counts like any module.
    return graph


# Units, top to bottom. A unit is named by its package ("providers.claude" for a provider's
# package, "providers" for the registry and the contract) or its top-level module.
RANKS: tuple[tuple[str, ...], ...] = (
    ("__main__", "cli", "jobs", "serve", "emulator"),  # the commands: generated, thin
    ("providers", "providers.*"),  # the contract, the registry, one package per upstream
    # engines, and the fake upstreams the emulator assembles
    ("backup", "batch", "importer", "query", "mcp", "doctor", "recorder", "cooldown", "fakes"),
    ("store",),
    ("flatten",),  # pure: upstream JSON -> rows
    ("transport",),
    (
        "errors",
        "options",
        "config",
        "summary",
        "progress",
        "timeutil",
        "privatefiles",
        "clock",
        "loosejson",
        "settings",
    ),
    ("interrupts", ""),  # "": the package's own __init__ (its version)
)


def unit_of(module: str, root: Path) -> str:
    """The unit a module belongs to: ``archiver.providers.chatgpt.flatten`` is
    ``providers.chatgpt``; ``archiver.store.save`` is ``store``; ``archiver.errors`` is
    ``errors``."""
    parts = module.split(".")[1:]
    if not parts:
        return ""
    if parts[0] == "providers" and len(parts) > 1 and (root / "providers" / parts[1]).is_dir():
        return f"providers.{parts[1]}"
    return parts[0]


def rank_of(unit: str) -> int | None:
    for rank, names in enumerate(RANKS):
        if unit in names or (unit.startswith("providers.") and "providers.*" in names):
            return rank
    return None


def unit_graph(graph: dict[str, set[str]], root: Path) -> dict[str, set[str]]:
    units: dict[str, set[str]] = {}
    for module, targets in graph.items():
        source = unit_of(module, root)
        units.setdefault(source, set())
        for target in targets:
            if unit_of(target, root) != source:
                units[source].add(unit_of(target, root))
    return units


def layering_problems(root: Path) -> list[str]:
    """Every cycle and every import that goes up a rank, as lines to print."""
    graph = package_graph(root)
    problems = ["import cycle: " + " <-> ".join(c) for c in find_cycles(graph)]
    units = unit_graph(graph, root)
    problems += ["unit cycle: " + " <-> ".join(c) for c in find_cycles(units)]
    for unit in sorted(units):
        rank = rank_of(unit)
        if rank is None:
            problems.append(f"{unit}: not in RANKS (scripts/check_cycles.py): give it a rank")
            continue
        for target in sorted(units[unit]):
            if unit.startswith("providers.") and target.startswith("providers."):
                problems.append(f"{unit} imports {target}: share it through a lower rank")
            target_rank = rank_of(target)
            if target_rank is not None and target_rank < rank:
                where = sorted(
                    f"{m} -> {t}"
                    for m, ts in graph.items()
                    if unit_of(m, root) == unit
                    for t in ts
                    if unit_of(t, root) == target
                )
                problems.append(f"{unit} imports {target}, a higher rank: {', '.join(where)}")
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parents[1] / "archiver")
    problems = layering_problems(root)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
