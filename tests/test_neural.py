"""The networks, the trainer and the run store, on tiny tasks (p ≤ 23, a few hundred steps).

Properties, not snapshots: the cache holds exactly the documented names with the
documented shapes and the logits are the unembedding of ``resid.final``; the "=" shortcut
computes what the full causal attention computes; a run is a function of its config; a
resumed run equals an uninterrupted one; a failed write leaves nothing behind.
"""

from __future__ import annotations

import errno
import json
import os
import signal

import numpy as np
import pytest
import torch

from neural import (
    MLP,
    ModelConfig,
    RunError,
    TrainConfig,
    TrainingDiverged,
    TrainingInterrupted,
    Transformer,
    build_model,
    default_config,
    load_run,
    store,
    train,
)
from taskcore.errors import TaskError
from taskcore.registry import get_task

# Small and quick: d_model 16 keeps every test run well under a second per hundred steps.
TINY = dict(d_model=16, d_mlp=32, threads=1, log_every=5, checkpoints=20)


def tiny_config(**changes) -> TrainConfig:
    return default_config(**{"steps": 60, "train_frac": 0.5, **TINY, **changes})


def pairs(n: int, batch: int = 7, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(n, (batch,), generator=g), torch.randint(n, (batch,), generator=g)


def shape_of(spec: str, sizes: dict) -> tuple[int, ...]:
    """Parse the documented shape "(B, n_heads, 3)  ..." into numbers."""
    dims = spec.split(")")[0].strip("(").split(",")
    return tuple(int(sizes.get(d.strip(), d.strip())) for d in dims)


# ---------------------------------------------------------------------------------------
# models


def test_transformer_cache_holds_exactly_the_documented_activations():
    n, cfg = 11, ModelConfig(d_model=16, n_heads=4, d_mlp=24)
    model = Transformer(cfg, n)
    x, y = pairs(n)
    logits, cache = model.run_with_cache(x, y)
    assert tuple(cache) == Transformer.ACTIVATION_NAMES or set(cache) == set(
        Transformer.ACTIVATION_NAMES
    )
    assert set(Transformer.ACTIVATION_SHAPES) == set(Transformer.ACTIVATION_NAMES)
    sizes = {"B": 7, "d_model": 16, "d_mlp": 24, "n_heads": 4}
    for name, spec in Transformer.ACTIVATION_SHAPES.items():
        assert tuple(cache[name].shape) == shape_of(spec, sizes), name
    assert logits.shape == (7, n)
    torch.testing.assert_close(logits, model(x, y))
    torch.testing.assert_close(logits, cache["resid.final"] @ model.unembedding_matrix())
    torch.testing.assert_close(cache["attn.pattern"].sum(-1), torch.ones(7, 4))
    torch.testing.assert_close(cache["embed.x"], model.embedding_matrix()[x])
    assert model.embedding_matrix().shape == (n, 16)
    assert model.unembedding_matrix().shape == (16, n)


def test_transformer_readout_shortcut_equals_full_causal_attention():
    """The last block computes only the "=" query; that must be the full block's last row."""
    n, cfg = 13, ModelConfig(d_model=16, n_heads=2, d_mlp=20, n_layers=2)
    model = Transformer(cfg, n)
    x, y = pairs(n)
    _, cache = model.run_with_cache(x, y)
    assert set(cache) == set(model.activation_names)
    pattern0 = cache["blocks.0.attn.pattern"]  # (B, h, 3, 3), causal: nothing above the diagonal
    assert pattern0.shape == (7, 2, 3, 3)
    assert torch.all(pattern0.triu(1) == 0)
    block = model.blocks[-1]
    resid = cache["blocks.0.resid.post"]
    full = block(resid, False, None, "")  # (B, 3, d)
    short = block(resid, True, None, "")  # (B, d)
    torch.testing.assert_close(full[:, -1], short)


def test_first_layer_lookup_equals_the_plain_attention():
    """The first block computes queries, keys and values per (position, token) and looks them
    up; that must be the plain computation on resid.pre."""
    n, cfg = 13, ModelConfig(d_model=16, n_heads=4, d_mlp=20, init_scale=1.5)
    model = Transformer(cfg, n)
    x, y = pairs(n)
    logits, cache = model.run_with_cache(x, y)
    plain = model.blocks[0](cache["resid.pre"], True, None, "")  # no table: resid @ W
    torch.testing.assert_close(plain @ model.W_U, logits)


@pytest.mark.parametrize("embed", ["learned", "onehot"])
@pytest.mark.parametrize("combine", ["sum", "concat"])
@pytest.mark.parametrize("act", ["relu", "quadratic"])
def test_mlp_cache_and_matrices(embed, combine, act):
    n = 9
    cfg = ModelConfig(kind="mlp", d_model=12, d_mlp=20, embed=embed, combine=combine, act=act)
    model = build_model(cfg, n)
    assert isinstance(model, MLP)
    x, y = pairs(n)
    logits, cache = model.run_with_cache(x, y)
    assert set(cache) == set(MLP.ACTIVATION_NAMES) == set(MLP.ACTIVATION_SHAPES)
    d_emb = n if embed == "onehot" else 12
    assert cache["embed.x"].shape == cache["embed.y"].shape == (7, d_emb)
    assert (
        cache["mlp.pre"].shape == cache["mlp.post"].shape == cache["resid.final"].shape == (7, 20)
    )
    expected = cache["mlp.pre"].relu() if act == "relu" else cache["mlp.pre"] ** 2
    torch.testing.assert_close(cache["mlp.post"], expected)
    torch.testing.assert_close(logits, cache["resid.final"] @ model.unembedding_matrix())
    assert model.embedding_matrix("x").shape[0] == model.embedding_matrix("y").shape[0] == n
    assert model.unembedding_matrix().shape == (20, n)
    if embed == "onehot":  # the identity is not a parameter: nothing to learn there
        assert all(p.shape != (n, n) for p in model.parameters())


def test_model_config_rejects_nonsense():
    with pytest.raises(ValueError):
        ModelConfig(kind="rnn")
    with pytest.raises(ValueError):
        ModelConfig(d_model=30, n_heads=4)


# ---------------------------------------------------------------------------------------
# trainer


def strip_time(metrics: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in metrics]


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_config_json_round_trip():
    config = tiny_config(betas=(0.8, 0.9), batch_size=32, grokfast_lambda=3.0)
    again = TrainConfig.from_json(json.loads(json.dumps(config.to_json())))
    assert again == config
    assert config.replace(d_model=8).model.d_model == 8


def test_checkpoint_schedule_is_dense_early_and_covers_the_run():
    steps = store.checkpoint_schedule(10_000, 80)
    assert steps[0] == 0 and steps[-1] == 10_000 and steps == sorted(set(steps))
    assert 60 <= len(steps) <= 90
    assert sum(s < 100 for s in steps) >= 15  # log-spaced part: the fast early phase
    assert max(np.diff(steps)) <= 10_000 / 40 + 1  # uniform part: no long gaps


def test_training_is_deterministic_and_leaves_the_global_rng_alone():
    task = get_task("modadd", p=13)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a, b = train(task, tiny_config()), train(task, tiny_config())
    assert torch.equal(torch.get_rng_state(), before)
    assert strip_time(a.metrics) == strip_time(b.metrics)
    assert same_weights(a.model, b.model)
    c = train(task, tiny_config(seed=1))
    assert strip_time(c.metrics) != strip_time(a.metrics)


def test_resume_after_ctrl_c_equals_an_uninterrupted_run(tmp_path):
    task = get_task("modadd", p=13)
    config = tiny_config(steps=80, grokfast_lambda=2.0, batch_size=40)  # EMA and RNG state too
    whole = train(task, config, run_dir=tmp_path / "whole")

    def ctrl_c_at_35(info):
        if info.step == 35:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C sends; the trainer stops cleanly

    with pytest.raises(TrainingInterrupted) as stop:
        train(task, config, on_step=ctrl_c_at_35, run_dir=tmp_path / "cut")
    assert stop.value.step == 36
    assert load_run(tmp_path / "cut").summary["status"] == "interrupted"
    # the resume point is one file: a kill between writing state.pt and its metrics.jsonl copy
    # (here: a stale copy) loses no row
    state = store.load_state(tmp_path / "cut")
    assert [r["step"] for r in state["metrics"]] == [r["step"] for r in whole.metrics[:8]]
    rows = (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()
    (tmp_path / "cut" / "metrics.jsonl").write_text("\n".join(rows[:3]) + "\n")
    resumed = train(task, config, run_dir=tmp_path / "cut", resume=True)
    assert strip_time(resumed.metrics) == strip_time(whole.metrics)
    assert same_weights(resumed.model, whole.model)
    assert (
        load_run(tmp_path / "cut").checkpoint_steps == load_run(tmp_path / "whole").checkpoint_steps
    )


def test_resume_after_a_crash_continues_from_the_last_checkpoint(tmp_path):
    task = get_task("modadd", p=13)
    config = tiny_config(steps=70)
    whole = train(task, config)

    def crash(info):
        if info.step == 50:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        train(task, config, on_step=crash, run_dir=tmp_path / "run")
    state = store.load_weights(tmp_path / "run" / store.STATE)
    assert state["step"] < 50  # the last scheduled checkpoint before the crash
    resumed = train(task, config, run_dir=tmp_path / "run", resume=True)
    assert strip_time(resumed.metrics) == strip_time(whole.metrics)
    assert same_weights(resumed.model, whole.model)


def test_resume_refuses_a_different_run(tmp_path):
    task = get_task("modadd", p=13)
    train(task, tiny_config(steps=10), run_dir=tmp_path / "run")
    with pytest.raises(RunError, match="lr"):
        train(task, tiny_config(steps=20, lr=0.5), run_dir=tmp_path / "run", resume=True)
    with pytest.raises(RunError, match="different task"):
        train(
            get_task("modsub", p=13), tiny_config(steps=20), run_dir=tmp_path / "run", resume=True
        )
    with pytest.raises(RunError, match="nothing to resume"):
        train(task, tiny_config(), run_dir=tmp_path / "empty", resume=True)


def test_existing_run_folder_is_never_overwritten_without_force(tmp_path):
    task = get_task("modadd", p=13)
    run_dir = tmp_path / "run"
    train(task, tiny_config(steps=5), run_dir=run_dir)
    with pytest.raises(RunError, match="--force"):
        train(task, tiny_config(steps=5), run_dir=run_dir)
    train(task, tiny_config(steps=10), run_dir=run_dir, force=True)
    assert load_run(run_dir).summary["steps"] == 10
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("...")
    (precious / "config.json").write_text("{}")  # looks like a run, but synthcmp did not make it
    (precious / "state.pt").write_text("")
    with pytest.raises(RunError, match="not a synthcmp run folder"):
        train(task, tiny_config(steps=5), run_dir=precious, force=True)
    assert (precious / "chapter1.tex").exists()


def test_atomic_write_leaves_old_file_and_no_partial_file_on_failure(tmp_path):
    target = tmp_path / "summary.json"
    store.atomic_write_json(target, {"ok": 1})

    def half_then_fail(f):
        f.write(b'{"ok": 2, "trunc')
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(TaskError, match="no space left"):
        store.atomic_write(target, half_then_fail)
    assert json.loads(target.read_text()) == {"ok": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_a_run_folder_holds_the_documented_files_and_no_temporaries(tmp_path):
    task = get_task("modadd", p=13)
    run = train(task, tiny_config(steps=40), run_dir=tmp_path / "run")
    folder = tmp_path / "run"
    names = {p.name for p in folder.iterdir()}
    assert names == {"config.json", "task.json", "metrics.jsonl", "checkpoints", "state.pt",
                     "model.pt", "summary.json", ".synthcmp-run", ".lock"}  # fmt: skip
    assert not list(folder.rglob("*.tmp"))
    summary = json.loads((folder / "summary.json").read_text())
    assert summary == json.loads(json.dumps(run.to_json()))
    for key in ("run_dir", "steps", "seconds", "memorization_step", "grok_step", "final"):
        assert key in summary
    assert set(summary["final"]) >= {"train_acc", "test_acc", "train_loss", "test_loss"}


def test_load_run_gives_back_task_split_metrics_and_models(tmp_path):
    task = get_task("modsub", p=11)
    config = tiny_config(steps=40)
    run = train(task, config, run_dir=tmp_path / "run")
    loaded = load_run(tmp_path / "run")
    assert loaded.config == config
    assert np.array_equal(loaded.task.table, task.table)
    assert np.array_equal(loaded.split.train_index, task.split(0.5, 0).train_index)
    assert strip_time(loaded.metrics) == strip_time(run.metrics)
    assert loaded.checkpoint_steps[0] == 0 and loaded.checkpoint_steps[-1] == 40
    final = loaded.load_model()
    assert not final.training
    assert same_weights(final, run.model)
    assert same_weights(loaded.load_model(40), final)
    first = loaded.load_model(0)
    fresh = train(task, config.replace(steps=0)).model
    assert same_weights(first, fresh)
    with pytest.raises(RunError, match="no checkpoint"):
        loaded.load_model(39_999)


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path):
    task = get_task("modadd", p=11)
    config = tiny_config(steps=50, lr=1e12, warmup=0, log_every=1)
    with pytest.raises(TrainingDiverged, match="diverged.*step"):
        train(task, config, run_dir=tmp_path / "run")
    loaded = load_run(tmp_path / "run")
    assert loaded.checkpoint_steps and not (tmp_path / "run" / "model.pt").exists()
    assert loaded.summary["status"] == "diverged"
    model = loaded.load_model()
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_lookup_memorizes_and_stays_at_chance():
    task = get_task("lookup", p=11)
    run = train(task, tiny_config(steps=300, d_model=32, d_mlp=64, lr=1e-2))
    assert run.memorization_step is not None
    assert run.grok_step is None
    assert run.final["test_acc"] < 0.3  # chance is 1/11


def test_small_modadd_groks_within_budget():
    """p = 23 with 80% of the pairs for training: grokking in a few hundred steps."""
    task = get_task("modadd", p=23)
    config = default_config(
        steps=800, train_frac=0.8, d_model=32, d_mlp=128, lr=1e-2, weight_decay=1.0,
        grokfast_lambda=0.0, stop_after_grok=20, log_every=5, threads=1,
    )  # fmt: skip
    run = train(task, config)
    assert run.grok_step is not None, run.final
    assert run.final["test_acc"] >= 0.99
    assert run.status == "grokked" and run.steps == run.grok_step + 20


def test_with_label_noise_the_network_sees_noisy_train_and_clean_test_labels():
    """Noise touches the training labels only, so test accuracy can reach 100% and grokking
    is judged on it; a network that fits the noise fits labels the true table contradicts."""
    task = get_task("modadd", p=13, noise=0.2)
    config = tiny_config(steps=100)
    run = train(task, config)
    split = task.split(config.train_frac, config.seed)
    assert split.n_noisy == round(0.2 * split.n_train)
    first = next((r["step"] for r in run.metrics if r["test_acc"] >= 0.99), None)
    assert run.grok_step == first


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_cuda_run_matches_cpu_closely(tmp_path):
    task = get_task("modadd", p=13)
    cpu = train(task, tiny_config(steps=20))
    gpu = train(task, tiny_config(steps=20, device="cuda"), run_dir=tmp_path / "run")
    assert abs(cpu.final["train_loss"] - gpu.final["train_loss"]) < 1e-3
    assert next(load_run(tmp_path / "run").load_model().parameters()).device.type == "cpu"


def test_cuda_asked_for_where_there_is_none_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RunError, match="CUDA is not available"):
        train(get_task("modadd", p=13), tiny_config(device="cuda"))
