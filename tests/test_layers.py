"""The house rules, checked by reading every import: arrows only point down.

    synthcmp → compare → synth | neural → taskcore

``taskcore`` imports none of the others; ``synth`` and ``neural`` know nothing of each other;
nothing below the shell imports it. Imports inside functions count too. Two more rules are
checked in a fresh interpreter: the CLI starts without torch, and synth never needs it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("taskcore", "synth", "neural", "compare", "synthcmp")
ALLOWED = {
    "taskcore": {"taskcore"},
    "synth": {"taskcore", "synth"},
    "neural": {"taskcore", "neural"},
    "compare": {"taskcore", "synth", "neural", "compare"},
    "synthcmp": set(PACKAGES),
}


def project_imports(path: Path) -> set[str]:
    """The project packages a module imports (absolute imports; relative ones stay inside)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(n.split(".")[0] for n in names if n.split(".")[0] in PACKAGES)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_only_point_down(package):
    wrong = {
        str(path.relative_to(ROOT)): sorted(project_imports(path) - ALLOWED[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert not {k: v for k, v in wrong.items() if v}, wrong


def run_python(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_cli_starts_without_torch():
    run_python("import sys, synthcmp.cli; assert 'torch' not in sys.modules")


def test_synth_and_taskcore_need_no_torch_and_no_shell():
    run_python(
        "import sys, taskcore, synth; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'neural', 'compare', 'synthcmp', 'rich', 'click')]; assert not bad, bad"
    )


def test_engines_never_import_the_shell():
    run_python(
        "import sys, compare, compare.analysis, neural, synth; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('synthcmp', 'rich', 'click')]; "
        "assert not bad, bad"
    )


def module_graph() -> dict[str, set[str]]:
    """module → the project modules it imports (at top level or inside functions), with
    ``from package import name`` counted as the module ``package.name`` where that exists.
    Imports for type checkers only (under ``if TYPE_CHECKING:``) never run and do not count."""
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
               for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}  # fmt: skip
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        tree = ast.parse(path.read_text())
        typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                       and getattr(block.test, "id", "") == "TYPE_CHECKING"
                       for n in ast.walk(block)}  # fmt: skip
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]  # fmt: skip
            else:
                continue
            edges.update(t for t in targets if t in modules and t != name)
        graph[name] = edges
    return graph


def test_no_module_imports_itself_through_others():
    """No import cycles between modules (a package's __init__ re-exporting its modules is the
    package, not a cycle, so edges into an ``__init__`` from its own modules are left out)."""
    graph = module_graph()
    for name, edges in graph.items():
        graph[name] = {t for t in edges if not name.startswith(t + ".")}
    seen: dict[str, int] = {}  # 1: on the path, 2: done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in seen:
                visit(nxt, [*path, nxt])
        seen[node] = 2

    for start in sorted(graph):
        if start not in seen:
            visit(start, [start])
    assert not cycles, cycles


def test_the_shell_names_the_models_the_network_package_builds():
    """The CLI and sweep specs list the models without importing torch; this holds them to
    neural's own list."""
    from neural.config import DEFAULTS
    from synthcmp.sweep.spec import MODELS as SPEC_MODELS
    from synthcmp.ui import MODELS

    assert set(MODELS) == set(DEFAULTS) and SPEC_MODELS is MODELS
