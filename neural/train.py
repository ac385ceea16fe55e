"""Training entry points: :func:`train` (one run, resumable) and :func:`train_batched` (many
seeds of one configuration as one stacked model). Both build their seeds and weights and
hand them to the one loop (:mod:`neural.loop`), which records metrics, events, checkpoints,
divergence and interruption the same way for one seed and for N.

A run is a folder (:mod:`neural.store`). ``resume=True`` continues from ``state.pt`` and ends
with the same numbers as an uninterrupted run, because the state holds everything the next
step reads: weights, optimiser moments, Grokfast EMA, RNG, step — and the metrics rows so
far. While it trains, each run holds its folder's lock (:func:`neural.store.open_run`).

Many seeds trained together differ in their seed only (the seed draws the split and the
initial weights): on a GPU one small network leaves the device idle, so N seeds are stacked
into one model (:class:`neural.weights.StackedModels`) and each still stored as an ordinary
run folder, with a ``state.pt`` in the single run's format, so ``load_run``, ``synthcmp
compare`` and ``synthcmp train --resume`` read a batched seed unchanged. Which device batches
and which trains one run at a time is :mod:`neural.seeds`'s choice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from neural import store
from neural.config import DEFAULTS, REFERENCE, TrainConfig, default_config
from neural.loop import (
    Run,
    Seed,
    StepInfo,
    TrainingDiverged,
    TrainingInterrupted,
    cpu_settings,
    run_loop,
    sigint_flag,
)
from neural.weights import OneModel, StackedModels
from taskcore.table import Task

__all__ = [
    "DEFAULTS", "REFERENCE", "Run", "SeedStep", "StepInfo", "TrainConfig", "TrainingDiverged",
    "TrainingInterrupted", "check_same_configuration", "default_config", "train",
    "train_batched",
]  # fmt: skip


def train(
    task: Task,
    config: TrainConfig | None = None,
    on_step: Callable[[StepInfo], None] | None = None,
    run_dir: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
) -> Run:
    """Train a network on ``task``'s split ``task.split(config.train_frac, config.seed)``.

    With ``run_dir`` the run is stored (and can be resumed with ``resume=True``); without
    it nothing is written. Raises :class:`TrainingDiverged` on a NaN/inf loss,
    :class:`TrainingInterrupted` on Ctrl-C (after saving a resume point), and
    :class:`~neural.store.RunError` for a device this machine lacks, or a run folder that
    exists (without ``force``), is in use, is missing or damaged (with ``resume``) or does
    not match.
    """
    config = config or default_config()
    check_device(config.device)
    run_path = Path(run_dir) if run_dir is not None else None
    if run_path is None and resume:
        raise store.RunError("resume needs a run folder")
    with contextlib.ExitStack() as stack:
        if run_path is not None:
            stack.enter_context(store.open_run(run_path, resume=resume, force=force))
            store.prepare_run_dir(run_path, task, config, resume)
        stack.enter_context(cpu_settings(config.threads))
        interrupted = stack.enter_context(sigint_flag())
        return _train(task, config, on_step, run_path, resume, interrupted)


def check_device(name: str) -> torch.device:
    """The torch device ``name`` if this machine has it; else a RunError that says so."""
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError, ValueError):
        raise store.RunError(f"unknown device {name!r}; use cpu, cuda, cuda:N or mps") from None
    have = {"cpu": 1, "cuda": torch.cuda.is_available() and torch.cuda.device_count()}
    have["mps"] = int(torch.backends.mps.is_available())
    if device.type not in have:
        raise store.RunError(f"device {name!r} is not supported; use cpu, cuda or mps")
    if 0 < have[device.type] <= (device.index or 0):
        raise store.RunError(f"device {name!r}: this machine has {have[device.type]} of that kind")
    if not have[device.type]:
        raise store.RunError(
            f"device {name!r} asked for, but {device.type.upper()} is not available here"
        )
    return device


def initial_model(config: TrainConfig, n: int, run_dir: Path | None):
    """The seed's initial network, drawn without touching the caller's random state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return store.build(config, n, run_dir)


def _train(task, config, on_step, run_dir, resume, interrupted) -> Run:
    device = torch.device(config.device)
    dtype = torch.float32 if config.dtype == "float32" else torch.float64
    split = task.split(config.train_frac, config.seed)
    weights = OneModel(initial_model(config, task.n, run_dir), split, config.betas, device, dtype)
    seed = Seed(0, config, run_dir, split.n_train, split.n_test,
                torch.Generator().manual_seed(config.seed + 1))  # fmt: skip
    start = 0
    if resume:
        state = store.load_state(run_dir, device=str(device))
        try:
            weights.load(state, device)
            seed.batch_rng.set_state(state["batch_rng"])
            start, seconds_before = int(state["step"]), float(state["seconds"])
        except (RuntimeError, TypeError, KeyError, ValueError, IndexError, AttributeError):
            raise store.RunError(f"{run_dir / store.STATE} does not fit this run") from None
        # the rows live in the resume point itself (older runs: in metrics.jsonl)
        rows = state["metrics"] if "metrics" in state else store.read_metrics(run_dir)
        metrics = [row for row in rows if row["step"] < start]
        store.write_metrics(run_dir, metrics)
        before = store.read_summary(run_dir)
        seed = Seed(0, config, run_dir, split.n_train, split.n_test, seed.batch_rng, metrics,
                    seconds_before,  # how its earlier steps were trained, still true of it
                    extra_summary={k: before[k] for k in ("batched_seeds",) if k in before})  # fmt: skip
        seed.last_saved = max((s for s in seed.schedule if s < start), default=None)

    def forward(index: int, info: StepInfo) -> None:
        if on_step is not None:
            on_step(info)

    (run,) = run_loop(task, [seed], weights, start, forward, interrupted)
    if run.status == "diverged":
        where = (f"; the last good checkpoint is step {seed.last_saved} in {run_dir}"
                 if seed.last_saved is not None and run_dir else "")  # fmt: skip
        raise TrainingDiverged(
            f"training diverged: the loss became non-finite at step {run.steps}{where}. "
            f"Try a smaller learning rate (lr = {config.lr:g} now).", run,
        )
    return run


@dataclass(frozen=True)
class SeedStep:
    """What ``train_batched``'s ``on_step`` receives: which seed (its position in the
    configs) and its row."""

    index: int
    info: StepInfo


def check_same_configuration(configs: list[TrainConfig]) -> None:
    """The seeds of one batch differ in their seed only (a RunError otherwise)."""
    if not configs:
        raise store.RunError("no seeds to train")
    first = configs[0].replace(seed=0)
    for config in configs[1:]:
        if config.replace(seed=0) != first:
            raise store.RunError("seeds trained together must share every setting but the seed")
    seeds = [c.seed for c in configs]
    if len(set(seeds)) != len(seeds):
        raise store.RunError(f"the same seed twice in one batch: {seeds}")


def train_batched(
    task: Task,
    configs: list[TrainConfig],
    run_dirs: list[str | Path] | None = None,
    on_step: Callable[[SeedStep], None] | None = None,
    force: bool = False,
) -> list[Run]:
    """Train every config's seed at once as one stacked model (module docstring); each seed's
    numbers are those of :func:`train` with its config, to float tolerance.

    A seed that diverges is recorded as "diverged" and the others go on. Raises
    :class:`TrainingInterrupted` on Ctrl-C after saving each unfinished seed's resume point
    (``run_dir`` None; each seed continues with ``synthcmp train --resume``), and
    :class:`~neural.store.RunError` for a device this machine lacks or a run folder that
    cannot be used.
    """
    check_same_configuration(configs)
    config = configs[0]
    check_device(config.device)
    paths = [Path(d) for d in run_dirs] if run_dirs is not None else [None] * len(configs)
    with contextlib.ExitStack() as stack:
        for path, c in zip(paths, configs, strict=True):
            if path is not None:
                stack.enter_context(store.open_run(path, force=force))
                store.prepare_run_dir(path, task, c, resume=False)
        stack.enter_context(cpu_settings(config.threads))
        interrupted = stack.enter_context(sigint_flag())
        device = torch.device(config.device)
        dtype = torch.float32 if config.dtype == "float32" else torch.float64
        splits = [task.split(c.train_frac, c.seed) for c in configs]
        models = [initial_model(c, task.n, path) for c, path in zip(configs, paths, strict=True)]
        weights = StackedModels(models, splits, config.betas, device, dtype)
        seeds = [Seed(i, c, path, s.n_train, s.n_test, torch.Generator().manual_seed(c.seed + 1),
                      extra_summary={"batched_seeds": len(configs)})
                 for i, (c, path, s) in enumerate(zip(configs, paths, splits, strict=True))]  # fmt: skip

        def forward(index: int, info: StepInfo) -> None:
            if on_step is not None:
                on_step(SeedStep(index, info))

        return run_loop(task, seeds, weights, 0, forward, interrupted)
