"""Imports: no module of `sources/` or `orchestration/` imports itself back at run time, the simulator's parts
import one way, and every simulator module imports on its own in a fresh interpreter.

The graph is read from the source (ast), not from a running process: an edge is any `import` a module can
execute, at its top or inside a function, except those under `if TYPE_CHECKING:` (never executed).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sources", "orchestration")


def module_names(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under the packages (a package is its __init__)."""
    names = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            names[".".join(parts)] = path
    return names


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes that sit in an `if TYPE_CHECKING:` body."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and (
            (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
            or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")
        ):
            skipped |= {id(inner) for statement in node.body for inner in ast.walk(statement)}
    return skipped


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` can import at run time."""
    tree = ast.parse(path.read_text(), str(path))
    skipped = _type_checking_only(tree)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package[: len(package) - node.level + 1] + ([node.module] if node.module else [])
                )
            # `from package import module` imports the module; `from module import name` the module.
            targets |= {
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
            }
    found = set()
    for target in targets:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)
    return found


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    modules = module_names(root, packages)
    return {name: _imported(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import each other, directly or through others (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative, so a deep import chain never meets the recursion limit.
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return sorted(found)


def test_no_module_of_sources_or_orchestration_imports_itself_back_at_run_time():
    assert cycles(import_graph(ROOT, PACKAGES)) == []


def test_cycle_check_finds_bottom_and_function_imports_and_ignores_type_checking_ones(tmp_path: Path):
    files = {
        "__init__.py": "",
        "methods.py": "def method(): ...\nfrom pkg import extra  # noqa\n",
        "extra.py": "from pkg.methods import method\n",
        "lazy.py": "def f():\n    from pkg.lazier import g\n",
        "lazier.py": "from pkg import lazy\ndef g(): ...\n",
        "typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.hinted import H\n",
        "hinted.py": "from . import typed\nclass H: ...\n",
    }
    (tmp_path / "pkg").mkdir()
    for name, text in files.items():
        (tmp_path / "pkg" / name).write_text(text)
    graph = import_graph(tmp_path, ("pkg",))
    assert graph["pkg.hinted"] == {"pkg.typed"} and graph["pkg.typed"] == set()
    assert cycles(graph) == [["pkg.extra", "pkg.methods"], ["pkg.lazier", "pkg.lazy"]]


def test_simulator_parts_import_one_way_world_never_reads_api_or_push():
    graph = import_graph(ROOT, PACKAGES)
    refused = {
        "sources.jimi_sim.world": ("sources.jimi_sim.api", "sources.jimi_sim.push"),
        "sources.jimi_sim.push": ("sources.jimi_sim.api",),
        "sources.jimi_sim.api": ("sources.jimi_sim.push",),
    }
    crossings = sorted(
        (name, target)
        for name, targets in graph.items()
        for part, others in refused.items()
        if name == part or name.startswith(part + ".")
        for target in targets
        if any(target == other or target.startswith(other + ".") for other in others)
    )
    assert crossings == []


@pytest.mark.slow  # a fresh interpreter per module (~14 s)
def test_every_simulator_module_imports_on_its_own_in_a_fresh_interpreter():
    # One interpreter loads the third-party libraries once, then forks a child per module: each child starts
    # with no module of the project loaded, so a module that works only after another was imported fails.
    simulator = sorted(
        name for name in module_names(ROOT, ("sources",)) if name.startswith("sources.jimi_sim")
    )
    script = textwrap.dedent(
        """
        import importlib, json, os, sys, traceback
        import click, dlt, httpx, numpy, orjson, starlette.applications, uvicorn  # noqa: F401
        import sources.jimi  # noqa: F401  (the product: the simulator imports it, never the reverse)
        failed = {}
        for name in json.loads(sys.argv[1]):
            read, write = os.pipe()
            child = os.fork()
            if child == 0:
                os.close(read)
                try:
                    importlib.import_module(name)
                    message = b""
                except BaseException:
                    message = traceback.format_exc().encode()
                os.write(write, message)
                os._exit(0)
            os.close(write)
            with os.fdopen(read, "rb") as pipe:
                message = pipe.read().decode()
            os.waitpid(child, 0)
            if message:
                failed[name] = message
        print(json.dumps(failed))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(simulator)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(simulator) > 50
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}
