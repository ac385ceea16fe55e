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


@pytest.mark.parametrize("package", ["taskcore", "synth", "neural", "compare"])
def test_no_module_below_the_shell_is_long(package):
    """Small modules with one job each: none of the engine modules passes ~400 lines."""
    long = {p.name: n for p in (ROOT / package).glob("*.py")
            if (n := len(p.read_text().splitlines())) > 420}  # fmt: skip
    assert not long, long


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
