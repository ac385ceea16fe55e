"""Extraction and matching on real model classes: networks wired by hand to run the Fourier
algorithm with known frequencies (ground truth), and randomly initialized ones (no circuit)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from compare import analyse_model
from compare.fourier import dlog_basis
from compare.handbuilt import fourier_mlp, fourier_transformer
from compare.match import MEMORIZATION
from compare.network import probe
from taskcore.table import get_task

P = 23
KEY = [2, 5, 9]


def candidates(*exprs: str) -> list[dict]:
    """Programs to match, as the synthesizer would rank them (bits only order them here)."""
    rows = [{"expr": e, "kind": "program", "bits": 10.0 + i} for i, e in enumerate(exprs)]
    return rows + [{"expr": "table", "kind": "table", "bits": 1000.0}]


@pytest.mark.parametrize("build", [fourier_transformer, fourier_mlp])
@pytest.mark.parametrize(
    "task_name, sign, expected",
    [("modadd", 1, "x + y"), ("modsub", -1, "x - y")],
)
def test_hand_built_network_circuit_is_recovered_and_named(build, task_name, sign, expected):
    task = get_task(task_name, p=P)
    split = task.split(0.3)
    model = build(P, KEY, sign=sign)
    assert (probe(model, P).prediction == task.table).all()
    found = analyse_model(model, task, split, candidates("x + y", "x - y", "x * y", "x**2 + y**2"))
    circuit, rows, match = found.circuit, found.programs, found.match
    assert sorted(circuit.key_frequencies) == KEY
    assert circuit.form == expected and circuit.basis == "additive"
    assert circuit.fve > 0.99 and circuit.faithfulness == 1.0
    assert circuit.key_share > 0.99 and circuit.frequencies_for_90 == len(KEY)
    assert circuit.restricted_loss <= circuit.full_loss + 1e-6
    assert circuit.excluded_loss > 0.95 * circuit.chance_loss
    assert set(circuit.neuron_clusters) == {str(k) for k in KEY}
    assert match.implements and match.program == expected
    assert match.verdict.startswith(f"implements {expected}")
    by_expr = {r.expr: r for r in rows}
    right = by_expr[expected]
    assert right.behaviour == 1.0 and right.spectrum > 0.99 and right.intermediates > 0.99
    for wrong in {"x + y", "x - y"} - {expected}:
        assert by_expr[wrong].behaviour < 0.1 and by_expr[wrong].spectrum < 0.01


def test_hand_built_multiplication_is_read_in_the_discrete_log_basis():
    task = get_task("modmul", p=P)
    model = fourier_transformer(P, KEY, basis=dlog_basis(P))
    assert (probe(model, P).prediction == task.table).all()
    found = analyse_model(model, task, task.split(0.3), candidates("x * y", "x + y"))
    circuit, rows, match = found.circuit, found.programs, found.match
    assert circuit.basis == "dlog" and circuit.form == "x * y"
    assert sorted(circuit.key_frequencies) == KEY
    assert circuit.zero_class == 0 and circuit.faithfulness == 1.0
    assert match.implements and match.program == "x * y"
    assert rows[0].spectrum > 0.99


@pytest.mark.parametrize("kind", ["transformer", "mlp"])
def test_random_network_has_no_circuit(kind):
    from neural.models import ModelConfig, build_model

    torch.manual_seed(0)
    task = get_task("modadd", p=P)
    model = build_model(ModelConfig(kind=kind, d_model=64, d_mlp=256), P)
    found = analyse_model(model, task, task.split(0.3), candidates("x + y"))
    circuit, rows, match = found.circuit, found.programs, found.match
    assert not circuit.found
    assert circuit.fve < 0.1
    assert not match.implements and match.verdict.startswith(MEMORIZATION)
    assert rows[0].behaviour < 0.2


def test_eta_squared_sees_the_sum_inside_the_hand_built_mlp():
    """The logits are a function of x + y (η² = 1); the hidden neurons hold squares such as
    (cos ω_k x + cos ω_k y)², partly functions of x or y alone (η² < 1); the embedding of x
    alone is independent of x + y (η² ≈ 0)."""
    task = get_task("modadd", p=P)
    model = fourier_mlp(P, KEY)
    rows = analyse_model(model, task, task.split(0.3), candidates("x + y")).programs
    node = rows[0].nodes[0]
    assert node.node == "x + y"
    assert np.isclose(node.eta2["logits"], 1.0)
    assert 0.2 < node.eta2["mlp.post"] < 0.9
    assert node.eta2["embed.x"] < 0.1
    assert np.isclose(rows[0].intermediates, 1.0)
