"""The app core's import graph has no cycle: the runner and the pipeline meet in app/steps.py, the
journal and the request checks are split one concern a module. Read from the source (AST), with
function-local imports counted too, so a cycle cannot hide inside a function (imports only for
type checkers, under `if TYPE_CHECKING:`, never run and are left out)."""

from __future__ import annotations

import ast
from pathlib import Path

import movieminter.app

APP = Path(movieminter.app.__file__).parent
PACKAGE = "movieminter.app"
CORE = {
    "cli",
    "csrf",
    "journal",
    "journal_records",
    "journal_repair",
    "journal_salvage",
    "journal_schema",
    "journal_status",
    "journal_writes",
    "mint_steps",
    "pipeline",
    "refusals",
    "rights",
    "runner",
    "security",
    "served_hosts",
    "sse",
    "steps",
}


def app_imports(name: str) -> set[str]:
    """The movieminter.app modules `name` imports, anywhere in its source."""
    tree = ast.parse((APP / f"{name}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        for target in targets:
            if target.startswith(PACKAGE + "."):
                module = target[len(PACKAGE) + 1 :].split(".")[0]
                if (APP / f"{module}.py").exists():
                    found.add(module)
    return found - {name}


def _runtime_nodes(node: ast.AST):
    """Every node below `node`, except the bodies of `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and ast.unparse(child.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            for branch in child.orelse:
                yield branch
                yield from _runtime_nodes(branch)
            continue
        yield child
        yield from _runtime_nodes(child)


def cycle_through(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A path start -> ... -> start, if there is one."""
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == start:
                return path + [start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None


def test_every_core_module_exists_and_the_graph_sees_imports():
    graph = {name: app_imports(name) for name in CORE}
    assert {"steps", "journal", "sse", "pipeline", "rights"} <= graph["runner"]
    assert "steps" in graph["pipeline"] and "steps" in graph["mint_steps"]


def test_no_import_cycle_among_the_app_core_modules():
    graph = {name: app_imports(name) & CORE for name in CORE}
    cycles = {name: cycle for name in sorted(CORE) if (cycle := cycle_through(name, graph))}
    assert cycles == {}


def test_type_checking_imports_are_left_out_and_local_ones_counted():
    tree = ast.parse(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from movieminter.app.runner import JobRunner\n"
        "def f():\n    from movieminter.app.pipeline import STEPS\n"
    )
    imported = [n.module for n in _runtime_nodes(tree) if isinstance(n, ast.ImportFrom)]
    assert imported == ["typing", "movieminter.app.pipeline"]


def test_the_cycle_check_finds_a_cycle():
    assert cycle_through("runner", {"runner": {"pipeline"}, "pipeline": {"runner"}}) == ["runner", "pipeline", "runner"]
