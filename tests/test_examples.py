"""Every teaching example runs in its quick mode, so none can silently rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("0*.py"))
EXPECTED = {
    "01_grokking_modadd.py": "Verdict: implements x + y",
    "02_lookup_vs_modadd.py": "memorization — no compact circuit",
    "03_synth_tour.py": "the table wins",
    "04_power_operations.py": "modsub",
}


def test_every_example_is_checked():
    assert {e.name for e in EXAMPLES} == set(EXPECTED)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_example_runs_in_quick_mode(example):
    done = subprocess.run(
        [sys.executable, str(example), "--quick"], capture_output=True, text=True, timeout=300,
        cwd=example.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert EXPECTED[example.name] in done.stdout
