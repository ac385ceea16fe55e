"""What each learner pays to find its answer: the synthesizer's candidates and seconds until
its best program appeared, the network's steps, seconds and FLOPs until it grokked, and
whether a run that did not grok was still improving when its budget ran out."""

from __future__ import annotations

import pytest

from neural import default_config, train
from neural.flops import step_flops
from neural.store import build
from synth import synthesize
from taskcore.events import RISING, still_rising
from taskcore.registry import get_task


def rows(test_accs: list[float]) -> list[dict]:
    return [{"step": 10 * i, "train_acc": 1.0, "test_acc": a} for i, a in enumerate(test_accs)]


def test_still_rising_only_when_the_test_accuracy_climbs_at_the_end():
    assert still_rising(rows([0.1] * 60 + [0.1 + 0.004 * i for i in range(40)]))
    assert not still_rising(rows([0.3] * 100))  # flat: a plateau
    assert not still_rising(rows([0.1 + 0.005 * i for i in range(100)][::-1]))  # falling
    assert not still_rising(rows([0.1] * 80 + [1.0] * 20))  # it grokked: it arrived
    assert not still_rising(rows([0.1, 0.5, 0.9]))  # too short to say
    just_under = rows([0.1] * 75 + [0.1 + RISING * 0.9] * 25)
    assert not still_rising(just_under)


def test_step_flops_count_the_matrix_products_of_forward_and_backward():
    config = default_config(d_model=16, d_mlp=32)
    model = build(config, 11)
    one, two, three = (step_flops(model, 50 * k) for k in (1, 2, 3))
    assert 0 < one < two < three and three - two == two - one  # every pair costs the same
    # at least the unembedding's forward and backward: 3 products of 2·d_model·n per pair
    assert one >= 3 * 2 * 16 * 11 * 50
    assert next(model.parameters()).device.type == "cpu"  # the model itself is not moved


def test_synth_records_what_finding_its_best_program_cost():
    task = get_task("modquad", p=23)
    result = synthesize(task, task.split(0.5, 0))
    stats = result.stats
    assert result.best.kind == "program"
    assert 0 < stats.programs_to_best <= stats.programs
    assert 0 <= stats.seconds_to_best <= stats.search_seconds
    lookup = get_task("lookup", p=23)
    none = synthesize(lookup, lookup.split(0.5, 0)).stats
    assert none.programs_to_best is None and none.seconds_to_best is None


@pytest.mark.parametrize("name, grokked", [("modadd", True), ("lookup", False)])
def test_a_run_summary_says_what_the_grok_cost(tmp_path, name, grokked):
    config = default_config(train_frac=0.8, steps=1500 if grokked else 200, stop_after_grok=20,
                            checkpoints=4)  # fmt: skip
    run = train(get_task(name, p=23), config, run_dir=tmp_path / name)
    summary = run.to_json()
    assert (summary["grok_step"] is not None) is grokked
    assert summary["flops_per_step"] == step_flops(run.model, run.n_train) > 0
    if grokked:
        assert 0 < summary["grok_seconds"] <= summary["seconds"]
        assert summary["test_acc_rising"] is False
    else:
        assert summary["grok_seconds"] is None
