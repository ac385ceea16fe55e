"""Extraction and matching on real model classes: networks wired by hand to run the Fourier
algorithm with known frequencies (ground truth), and randomly initialized ones (no circuit)."""

from __future__ import annotations

import pytest
import torch

from compare import analyse_model
from compare.basis import dlog_basis
from compare.handbuilt import fourier_mlp, fourier_transformer
from compare.match import MEMORIZATION
from compare.network import probe
from taskcore.registry import get_task

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
    circuit, rows, match = found.circuit, found.candidates, found.match
    assert sorted(circuit.key_frequencies) == KEY
    assert circuit.node == expected and circuit.basis == "additive"
    assert circuit.fve > 0.99 and circuit.faithfulness == 1.0
    assert circuit.key_share > 0.99 and circuit.frequencies_for_90 == len(KEY)
    assert circuit.exceptions == 0 and circuit.bits > circuit.template_bits
    assert circuit.restricted_loss <= circuit.full_loss + 1e-6
    assert circuit.excluded_loss > 0.95 * circuit.chance_loss
    assert set(circuit.neuron_clusters) == {str(k) for k in KEY}
    assert match.implements and match.program == expected
    assert match.verdict.startswith(f"implements {expected}")
    by_program = {r.program: r for r in rows}
    right = by_program[expected]
    assert right.score("behaviour") == 1.0 and right.score("logit_correlation") > 0.99
    assert right.score("intervention") > 0.95
    others = [by_program[w] for w in {"x + y", "x - y"} - {expected}]
    others += [r for r in rows if r.kind == "control"]  # expected + 1, 2·expected, inv(expected)
    assert len(others) == 4
    for wrong in others:
        assert wrong.score("behaviour") < 0.2, wrong  # inv(u) = u at u = 0, ±1
        assert wrong.score("logit_correlation") < right.score("logit_correlation") - 0.2, wrong
        assert wrong.score("intervention") < 0.5, wrong
    assert match.evidence == {"logit_correlation": True, "intervention": True}


def test_hand_built_multiplication_is_read_in_the_discrete_log_basis():
    task = get_task("modmul", p=P)
    model = fourier_transformer(P, KEY, basis=dlog_basis(P))
    assert (probe(model, P).prediction == task.table).all()
    found = analyse_model(model, task, task.split(0.3), candidates("x * y", "x + y"))
    circuit, rows, match = found.circuit, found.candidates, found.match
    assert circuit.basis == "dlog" and circuit.node == "x * y"
    assert sorted(circuit.key_frequencies) == KEY
    assert circuit.zero_class == 0 and circuit.faithfulness == 1.0
    assert match.implements and match.program == "x * y"
    assert rows[0].score("intervention") > 0.95 and rows[0].score("logit_correlation") > 0.99


@pytest.mark.parametrize("kind", ["transformer", "mlp"])
def test_random_network_has_no_circuit(kind):
    from neural.models import ModelConfig, build_model

    torch.manual_seed(0)
    task = get_task("modadd", p=P)
    model = build_model(ModelConfig(kind=kind, d_model=64, d_mlp=256), P)
    found = analyse_model(model, task, task.split(0.3), candidates("x + y"))
    circuit, rows, match = found.circuit, found.candidates, found.match
    assert not circuit.found and circuit.bits is None
    assert circuit.fve < 0.1
    assert not match.implements and match.verdict.startswith(MEMORIZATION)
    assert rows[0].score("behaviour") < 0.2


def test_intervention_tests_each_node_and_skips_one_input_nodes():
    """In (x + y)**2 the node x + y depends on both inputs and is tested (the network adds,
    then the program squares: the counterfactual is not met); x**2 + y**2's nodes x**2 and
    y**2 each read one input and are not."""
    task = get_task("modadd", p=P)
    model = fourier_mlp(P, KEY)
    rows = analyse_model(model, task, task.split(0.3), candidates("(x + y)**2", "x**2 + y**2"))
    by_program = {r.program: r for r in rows.candidates}
    squared = by_program["(x + y)**2"]
    assert [nd.node for nd in squared.nodes] == ["x + y", "(x + y)**2"]
    assert squared.nodes[0].best < 0.5  # patched x + y gives x′ + y′, not (x′ + y′)²
    assert [nd.node for nd in by_program["x**2 + y**2"].nodes] == ["x**2 + y**2"]
