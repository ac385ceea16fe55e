"""Many seeds as one batched model: each seed's numbers are a single run's, and each seed is an
ordinary run folder that the store, compare and ``train --resume`` read unchanged."""

from __future__ import annotations

import pytest
import torch

from neural import RunError, TrainingDiverged, default_config, load_run, store, train
from neural.seeds import batched_default, train_seeds
from neural.train import SeedStep, train_batched
from taskcore.registry import get_task

TINY = dict(d_model=16, d_mlp=32, threads=1, log_every=5, checkpoints=6)


def close(a: torch.nn.Module, b: torch.nn.Module, atol: float = 1e-4) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.allclose(sa[k], sb[k], atol=atol) for k in sa)


@pytest.mark.parametrize("model", ["transformer", "mlp"])
def test_each_batched_seed_equals_a_single_run_of_that_seed(model):
    task = get_task("modadd", p=13)
    configs = [default_config(model, steps=40, train_frac=0.5, seed=s, **TINY) for s in range(3)]
    batched = train_batched(task, configs)
    for config, run in zip(configs, batched, strict=True):
        single = train(task, config)
        assert run.steps == single.steps and run.status == single.status
        assert [r["step"] for r in run.metrics] == [r["step"] for r in single.metrics]
        for mine, theirs in zip(run.metrics, single.metrics, strict=True):
            assert mine["train_loss"] == pytest.approx(theirs["train_loss"], rel=1e-4, abs=1e-5)
            assert mine["test_acc"] == pytest.approx(theirs["test_acc"], abs=1e-3)
        assert close(run.model, single.model)


def test_seeds_that_grok_at_different_steps_stop_on_their_own_and_leave_ordinary_run_folders(tmp_path):
    """p = 17 with 80% of the pairs: the MLP groks in a few hundred steps, each seed at its
    own step; each stops ``stop_after_grok`` later, leaves the batch, and its folder is a
    single run's."""
    task = get_task("modadd", p=17)
    configs = [default_config("mlp", steps=600, train_frac=0.8, seed=s, stop_after_grok=15,
                              log_every=5, checkpoints=6) for s in range(3)]  # fmt: skip
    seen: list[SeedStep] = []
    runs = train_batched(task, configs, [tmp_path / f"b{s}" for s in range(3)], on_step=seen.append)
    grok_steps = [r.grok_step for r in runs]
    assert all(g is not None for g in grok_steps) and len(set(grok_steps)) > 1
    assert {e.index for e in seen} == {0, 1, 2}
    for config, run in zip(configs, runs, strict=True):
        single = train(task, config, run_dir=tmp_path / f"s{config.seed}")
        assert (run.grok_step, run.steps, run.status) == (single.grok_step, single.steps, "grokked")
        assert close(run.model, single.model)
        mine, theirs = load_run(tmp_path / f"b{config.seed}"), load_run(single.run_dir)
        assert mine.checkpoint_steps == theirs.checkpoint_steps
        assert len(mine.metrics) == len(theirs.metrics)
        assert mine.summary["grok_step"] == theirs.summary["grok_step"]
        assert close(mine.load_model(), theirs.load_model())


def test_a_batched_seed_resumes_as_a_single_run(tmp_path):
    task = get_task("modadd", p=13)
    configs = [default_config("transformer", steps=20, train_frac=0.5, seed=s, **TINY)
               for s in range(2)]  # fmt: skip
    train_batched(task, configs, [tmp_path / f"s{s}" for s in range(2)])
    for config in configs:
        resumed = train(task, config.replace(steps=40), run_dir=tmp_path / f"s{config.seed}",
                        resume=True)  # fmt: skip
        straight = train(task, config.replace(steps=40))
        assert resumed.final["train_loss"] == pytest.approx(straight.final["train_loss"], rel=1e-4)
        assert close(resumed.model, straight.model)


def test_minibatches_and_grokfast_batch_too():
    task = get_task("modadd", p=11)
    configs = [default_config("mlp", steps=25, train_frac=0.6, seed=s, batch_size=16,
                              grokfast_lambda=2.0, **TINY) for s in range(2)]  # fmt: skip
    for config, run in zip(configs, train_batched(task, configs), strict=True):
        assert close(run.model, train(task, config).model)


def test_seeds_run_in_worker_processes_give_the_same_runs(tmp_path):
    task = get_task("modadd", p=11)
    configs = [default_config("mlp", steps=30, train_frac=0.6, seed=s, **TINY) for s in range(2)]
    seen: list[SeedStep] = []
    runs = train_seeds(task, configs, [tmp_path / f"w{s}" for s in range(2)], on_step=seen.append,
                       batched=False, workers=2)  # fmt: skip
    assert sorted({(e.index, e.info.step) for e in seen}) == sorted(
        {(i, r["step"]) for i, run in enumerate(runs) for r in run.metrics})
    for config, run in zip(configs, runs, strict=True):
        assert close(run.model, train(task, config).model)


def test_only_seeds_of_one_configuration_batch_together():
    task = get_task("modadd", p=11)
    a = default_config("mlp", steps=5, seed=0, **TINY)
    with pytest.raises(RunError, match="every setting but the seed"):
        train_batched(task, [a, a.replace(seed=1, lr=0.5)])
    with pytest.raises(RunError, match="same seed twice"):
        train_batched(task, [a, a])


@pytest.mark.parametrize("batched", [True, False])
def test_one_divergence_rule_for_one_seed_and_many(tmp_path, batched):
    """A diverged seed is recorded ("diverged", with its last checkpoint's finite weights) and
    the others go on, batched or one run at a time; only ``train`` itself raises."""
    task = get_task("modadd", p=11)
    configs = [default_config("mlp", steps=50, seed=s, lr=1e9, warmup=0, **TINY) for s in range(2)]
    runs = train_seeds(task, configs, [tmp_path / f"s{s}" for s in range(2)], batched=batched)
    assert [r.status for r in runs] == ["diverged", "diverged"]
    assert all(store.read_summary(tmp_path / f"s{s}")["status"] == "diverged" for s in range(2))
    for run in runs:
        assert all(torch.isfinite(v).all() for v in run.model.state_dict().values())
    with pytest.raises(TrainingDiverged, match="last good checkpoint is step 0") as err:
        train(task, configs[0], run_dir=tmp_path / "single")
    assert err.value.run.status == "diverged"


def test_the_stacked_adamw_equals_torch_adamw_step_for_step():
    """The hand-written AdamW of the stacked seeds against torch.optim.AdamW, on the same
    gradients, with a learning rate and decay that change every step (float64: exact to
    rounding)."""
    from neural.train import initial_model
    from neural.weights import OneModel, StackedModels

    task = get_task("modadd", p=11)
    config = default_config("mlp", dtype="float64", **TINY)
    split = task.split(0.5, 0)
    one = OneModel(initial_model(config, 11, None), split, config.betas, "cpu", torch.float64)
    stacked = StackedModels([initial_model(config, 11, None)], [split], config.betas, "cpu",
                            torch.float64)  # fmt: skip
    for step in range(20):
        schedules = [(0.01 * (1 + step % 3), 0.5 * (step % 2))]
        for weights in (one, stacked):
            weights.forward(weights.x_train, weights.y_train).square().mean().backward()
            weights.step(schedules, None)
        mine, theirs = stacked.state_dict(0), one.state_dict(0)
        assert all(torch.allclose(mine[k], theirs[k], rtol=1e-10, atol=1e-12) for k in mine)


def test_batching_is_chosen_per_device():
    assert batched_default("cpu") is False
    assert batched_default("cuda") is True


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_batched_on_cuda_matches_single_runs_on_the_cpu():
    task = get_task("modadd", p=13)
    configs = [default_config("transformer", steps=30, train_frac=0.5, seed=s, device="cuda",
                              **TINY) for s in range(4)]  # fmt: skip
    for config, run in zip(configs, train_batched(task, configs), strict=True):
        single = train(task, config.replace(device="cpu"))
        assert close(run.model.cpu(), single.model, atol=1e-3)
