"""The comparison from Python (synthcmp.run): the typed report a notebook gets is the run
folder's report.json, and mistakes are TaskErrors, not prints or exits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import synthcmp
from compare.circuit import Circuit
from compare.match import Match
from synth.ladder import Rung
from taskcore.errors import TaskError


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "run"
    return synthcmp.run("modadd", p=13, frac=0.8, steps=400, out=out, llc=True)


def test_run_returns_the_typed_report_that_is_its_report_json(report):
    assert isinstance(report, synthcmp.Report)
    assert isinstance(report.circuit, Circuit) and isinstance(report.match, Match)
    assert all(isinstance(r, Rung) for r in report.ladder)
    assert [r.rung for r in report.ladder][0] == "shortest program"
    assert report.synth.best.expr == "x + y"
    stored = json.loads((Path(report.run_dir) / "report.json").read_text())
    assert stored == json.loads(json.dumps(report.to_json()))
    assert synthcmp.Report.from_json(stored).circuit.node == report.circuit.node


def test_llc_true_estimates_it_with_the_calibrated_sampler(report):
    from compare.llc import CHECKPOINTS
    from neural.llc import LLCConfig

    assert report.compare.llc_config == LLCConfig()
    assert 0 < len(report.compare.llc) <= CHECKPOINTS
    assert report.compare.llc[-1].step == max(p.step for p in report.compare.progress)


@pytest.mark.parametrize("kwargs, words", [
    ({"task": "nosuch"}, "unknown task"), ({"task": None, "expr": "x +"}, "cannot parse"),
    ({"task": "moddiv", "p": 12}, "prime"),
])  # fmt: skip
def test_a_mistake_is_a_task_error(tmp_path, kwargs, words):
    with pytest.raises(TaskError, match=words):
        synthcmp.run(**kwargs, out=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_importing_synthcmp_does_not_import_torch():
    code = "import sys, synthcmp; assert 'torch' not in sys.modules; synthcmp.Report"
    subprocess.run([sys.executable, "-c", code], check=True)
