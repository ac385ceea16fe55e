"""Nodes on networks trained here: a shifted sum and x² + y² are read through their nodes and
priced; a random table, label noise, a run stopped before it generalized and a wrong --node
come out negative; a priced circuit is never shorter than the shortest program."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

from compare import compare_run
from synthcmp.cli import main
from taskcore.registry import build_task
from taskcore.table import TaskSpec

TRAIN = dict(train_frac=0.8, steps=1500, stop_after_grok=150, checkpoints=16)


def trained(tmp_path_factory, spec: TaskSpec, **changes):
    from neural import default_config, train

    run_dir = tmp_path_factory.mktemp("runs") / "run"
    result = train(build_task(spec), default_config(**{**TRAIN, **changes}), run_dir=run_dir)
    return run_dir, result


def shortest_program_bits(result) -> float:
    from compare.analysis import load_or_synthesize
    from neural import load_run

    return min(p.bits for p in load_or_synthesize(load_run(result.run_dir)).programs)


@pytest.fixture(scope="module")
def shifted(tmp_path_factory):
    run_dir, result = trained(tmp_path_factory, TaskSpec(expr="x + y + 5", p=23))
    assert result.grok_step is not None, "the fixture's run should grok; adjust TRAIN"
    return compare_run(run_dir, top_k=3)


@pytest.fixture(scope="module")
def squares(tmp_path_factory):
    """modsq at p = 31 with the defaults (50% of the pairs), as a user runs it."""
    from neural import default_config, train
    from taskcore.table import default_train_frac

    task = build_task(TaskSpec(name="modsq", p=31))
    run_dir = tmp_path_factory.mktemp("runs") / "modsq"
    train(task, default_config(train_frac=default_train_frac(task)), run_dir=run_dir)
    return run_dir, compare_run(run_dir, top_k=3)


def test_a_shifted_sum_is_read_through_its_node_and_its_curve_ends_on_the_circuit(shifted):
    c = shifted.circuit
    assert c.found and c.node in ("x + y", "x + y + 5") and c.bits is not None
    assert shifted.match.implements and shifted.match.program == "x + y + 5"
    assert shifted.dl_curve[-1]["rung"] == "circuit"
    assert math.isclose(shifted.dl_curve[-1]["bits"], c.bits, rel_tol=0.05)
    phases = shifted.phases
    assert phases.memorization <= phases.circuit_formation <= phases.cleanup
    assert c.bits >= shortest_program_bits(shifted)


def test_squares_name_their_node_and_the_embedding_node(squares):
    run_dir, result = squares
    c = result.circuit
    assert c.found and c.node == "x**2 + y**2" and c.embedding_node == "x**2"
    assert c.embedding_node_share > c.embedding_node_baseline
    assert c.bits >= shortest_program_bits(result)
    assert result.phases.cleanup is not None  # no "cleanup not reached" after it grokked


def test_a_wrong_node_is_not_supported(squares):
    run_dir, _ = squares
    out = CliRunner().invoke(main, ["compare", str(run_dir), "--node", "x * y", "--json"])
    assert out.exit_code == 0, out.output
    import json

    test = json.loads(out.stdout)["node_test"]
    assert not test["supported"] and not test["reading"]["found"]
    right = CliRunner().invoke(main, ["compare", str(run_dir), "--node", "x**2 + y**2"])
    assert right.exit_code == 0 and "node test" in right.stdout


@pytest.mark.parametrize(
    "case",
    ["random table", "noise 0.3", "stopped early"],
)
def test_no_circuit_is_priced_where_none_describes_the_network(case, tmp_path_factory, tmp_path):
    if case == "random table":
        table = np.random.default_rng(0).integers(0, 23, size=(23, 23))
        path = tmp_path / "table.csv"
        path.write_text("\n".join(",".join(map(str, row)) for row in table))
        spec, changes = TaskSpec(table_path=str(path)), dict(steps=300, stop_after_grok=None)
    elif case == "noise 0.3":
        spec, changes = TaskSpec(name="modadd", p=23, noise=0.3), dict(steps=400)
    else:  # 95% of the pairs, 20 steps: it fits most training pairs and few held-out ones
        spec, changes = TaskSpec(name="modadd", p=23), dict(train_frac=0.95, steps=20)
    run_dir, _ = trained(tmp_path_factory, spec, **changes)
    result = compare_run(run_dir, top_k=3)
    c = result.circuit
    if c.found:  # label noise a network ignores still leaves it a circuit: it must pay for it
        assert case == "noise 0.3" and result.noise is not None
        assert c.exceptions >= result.noise.fit_noisy
        return
    assert c.bits is None and c.why_not_found()
    assert result.phases.circuit_formation is None and result.phases.cleanup is None
    assert all(p["rung"] == "table" for p in result.dl_curve)
