"""Every teaching example runs in its quick mode, so none can silently rot."""

from __future__ import annotations

import functools
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
    "05_groups.py": "Verdict: implements x * y",
    "06_universality.py": "runs implement x + y",
}


def test_every_example_is_checked():
    assert {e.name for e in EXAMPLES} == set(EXPECTED)


def run(example: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(example), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=example.parent)  # fmt: skip


@functools.cache
def quick(example: Path) -> subprocess.CompletedProcess:
    return run(example, "--quick")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_example_runs_in_quick_mode(example):
    done = quick(example)
    assert done.returncode == 0, done.stderr[-2000:]
    assert EXPECTED[example.name] in done.stdout
    wide = [line for line in done.stdout.splitlines() if len(line) > 100]
    assert not wide, wide  # fits a 100-column terminal


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_help_explains_and_runs_nothing(example):
    done = run(example, "--help", timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith("usage:") and "--quick" in done.stdout


@pytest.mark.parametrize(
    "args, said",
    [(["--frac"], "expected one argument"), (["--frac", "x"], "not a number"),
     (["--frac", "1.5"], "between 0 and 1"), (["--bogus"], "unrecognized arguments")],
)  # fmt: skip
def test_power_operations_rejects_a_bad_option_in_one_usage_error(args, said):
    example = next(e for e in EXAMPLES if e.name == "04_power_operations.py")
    done = run(example, "--quick", *args, timeout=60)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and "Traceback" not in done.stderr and not done.stdout
    assert lines[0].startswith("usage: 04_power_operations.py")
    assert lines[-1].startswith("04_power_operations.py: error:") and said in lines[-1]


def test_lookup_vs_modadd_says_what_it_is_doing():
    """Each stage is announced before it runs (the full run was silent for ~50 s)."""
    done = quick(next(e for e in EXAMPLES if e.name == "02_lookup_vs_modadd.py"))
    stages = [line.strip() for line in done.stdout.splitlines() if line.startswith("  ")]
    for stage in ("searching for the shortest programs", "training the network",
                  "extracting the circuit"):  # fmt: skip
        assert sum(line.startswith(stage) for line in stages) == 2, stage
    assert "memorized" in done.stdout.split("lookup (")[1]
