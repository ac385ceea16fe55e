"""The one training loop: full-batch AdamW on each seed's training split, watching for the
two events — for one seed and for many, one step recorder, one early stop, one divergence
rule.

Grokking (Power et al. 2022) has two moments worth a name (both defined once, in
:mod:`taskcore.events`):

* ``memorization_step`` — the first logged step where the network fits every training pair
  (for a lookup table that is all it can do);
* ``grok_step`` — the first logged step where test accuracy reaches 99%: it has found the
  rule. For modular addition that is the Fourier "clock" circuit (Nanda et al. 2023).

Each step takes each seed's cross-entropy on its training pairs,
``loss_i = −mean log softmax(f_i(x, y))[f]``, and one AdamW update of its weights
(decoupled weight decay, the pressure towards the low-norm general solution); the weights
do the arithmetic (:mod:`neural.weights`: one module, or N seeds stacked as one). Every
``log_every`` steps a metrics row records train and test loss and accuracy (of the same
weights) and the weight norm ``‖θ‖₂``. Each seed has its own schedule of learning rate and
decay (:mod:`neural.schedule`), its own checkpoints, and it stops on its own: when its step
budget is spent, or ``stop_after_grok`` steps after it grokked.

**Divergence.** A seed whose loss is not finite stops at that step: it is recorded as
"diverged" (metrics and ``summary.json`` say so), its weights are those of its last
checkpoint (which stays on disk), and the other seeds go on. :func:`neural.train.train`, the
one-run entry point, then raises :class:`TrainingDiverged` with that checkpoint's step.

**Interruption.** A first Ctrl-C becomes a flag read between steps: every seed still
training saves its resume point (``state.pt``: weights, optimizer moments, Grokfast
average, RNG, step and metrics rows, in one atomic file) and :class:`TrainingInterrupted`
is raised; ``synthcmp train --resume`` continues each seed with the same numbers as a run
that never stopped. Training is deterministic on the CPU for a fixed config: the only
randomness is the seeded initialisation (and minibatch sampling, if asked for, from a seeded
generator whose state is saved).
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from neural import store
from neural.config import TrainConfig
from neural.schedule import checkpoint_steps, finished, lr_and_decay
from neural.weights import seed_losses
from taskcore import events
from taskcore.table import Task

FINAL = ("train_acc", "test_acc", "train_loss", "test_loss", "weight_norm")


class TrainingDiverged(store.RunError):
    """The loss became NaN or infinite; the run folder keeps its last good checkpoint, and
    ``run`` is the run as recorded (status "diverged", its last checkpoint's weights)."""

    def __init__(self, message: str, run: Run | None = None):
        super().__init__(message)
        self.run = run


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped training at a step boundary after saving a resume point.

    A KeyboardInterrupt, so a caller that does not know about it still stops as on Ctrl-C.
    """

    def __init__(self, run_dir: Path | None, step: int):
        super().__init__(f"interrupted at step {step}")
        self.run_dir, self.step = run_dir, step

    def __reduce__(self):  # back from a worker process whole (its args are not the message)
        return type(self), (self.run_dir, self.step)


@dataclass(frozen=True)
class StepInfo:
    """What ``on_step`` receives at every logged step (one metrics row, plus context)."""

    step: int
    steps: int  # the planned number of steps
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    weight_norm: float
    seconds: float
    memorization_step: int | None
    grok_step: int | None
    events: tuple[str, ...]  # ("memorized",), ("grokked",), both, or () — what happened here


@dataclass(frozen=True, eq=False)
class Run:
    """One trained seed. ``to_json()`` is the run's ``summary.json``."""

    run_dir: Path | None
    config: TrainConfig
    task: Task
    steps: int  # steps actually trained
    seconds: float
    memorization_step: int | None
    grok_step: int | None
    status: str  # "grokked" (stopped after grokking) | "finished" (ran all steps)
    #            | "interrupted" | "diverged"
    final: dict
    metrics: list[dict] = field(repr=False)
    model: nn.Module = field(repr=False)
    n_train: int = 0
    n_test: int = 0

    def to_json(self) -> dict:
        from neural.flops import step_flops

        at_grok = next((r.get("seconds") for r in self.metrics
                        if self.grok_step is not None and r["step"] >= self.grok_step), None)  # fmt: skip
        return {
            "run_dir": str(self.run_dir) if self.run_dir is not None else None,
            "steps": self.steps,
            "seconds": round(self.seconds, 3),
            "memorization_step": self.memorization_step,
            "grok_step": self.grok_step,
            "grok_seconds": at_grok,  # wall seconds of training until the grok
            "flops_per_step": step_flops(self.model, self.n_train),  # neural.flops
            "test_acc_rising": events.still_rising(self.metrics),
            "final": self.final,
            "status": self.status,
            "steps_per_second": round(self.steps / self.seconds, 2) if self.seconds > 0 else None,
            "task": self.task.describe(),
            "model": self.config.model.name,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "chance_acc": 1.0 / self.task.n,
            "config": self.config.to_json(),
        }


@dataclass(eq=False)
class Seed:
    """One seed's own state in the loop: its config, folder, metrics and events."""

    index: int
    config: TrainConfig
    run_dir: Path | None
    n_train: int
    n_test: int
    batch_rng: torch.Generator
    metrics: list[dict] = field(default_factory=list)
    seconds_before: float = 0.0  # trained before a resume
    last_saved: int | None = None  # the step of its newest checkpoint
    last_good: dict | None = None  # that checkpoint's weights, for a seed that diverges
    extra_summary: dict = field(default_factory=dict)  # written into summary.json as well

    def __post_init__(self) -> None:
        self.mem_step = events.memorization_step(self.metrics)
        self.grok_step = events.grok_step(self.metrics)
        self.schedule = checkpoint_steps(self.config, self.grok_step)

    def finished(self, step: int) -> bool:
        return finished(self.config, step, self.grok_step)

    def lr_and_decay(self, step: int) -> tuple[float, float]:
        return lr_and_decay(self.config, step, self.grok_step)

    def record(self, row: dict) -> tuple[str, ...]:
        """Append a metrics row; the events that happened at it (and a denser checkpoint
        schedule over the cleanup once it grokked)."""
        happened: tuple[str, ...] = ()
        if self.mem_step is None and events.memorized(row):
            self.mem_step, happened = row["step"], happened + ("memorized",)
        if self.grok_step is None and events.grokked(row):
            self.grok_step, happened = row["step"], happened + ("grokked",)
            self.schedule = checkpoint_steps(self.config, self.grok_step)
        self.metrics.append(row)
        return happened


@contextmanager
def cpu_settings(threads: int | None) -> Iterator[None]:
    """Use ``threads`` CPU threads and flush denormal floats to zero during the run.

    Why one thread by default: a second thread speeds up an idle 2-core machine, but on a
    busy one two spinning OpenMP threads are several times *slower* than one (tiny matmuls
    wait on each other), and a laptop is rarely idle; docs/defaults.md has the numbers.

    Why flush denormals: once the network fits its data, the softmax gives the wrong
    classes probabilities below 1.2e-38 (float32's smallest normal number), and x86
    arithmetic on such denormals is slow. Zero instead of 1e-40 changes no loss or accuracy
    we report. torch cannot read the flag back, so it is reset to torch's default (off)
    afterwards.
    """
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(before)


@contextmanager
def sigint_flag() -> Iterator[list[bool]]:
    """Turn the first Ctrl-C into a flag the loop checks between steps (a second one
    interrupts at once). Only in the main thread, where Python delivers signals."""
    flag = [False]
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag[0]:
            raise KeyboardInterrupt
        flag[0] = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def run_loop(
    task: Task,
    seeds: list[Seed],
    weights,
    start: int,
    on_step: Callable[[int, StepInfo], None] | None,
    interrupted: list[bool],
) -> list[Run]:
    """Train ``seeds`` (rows of ``weights``, :mod:`neural.weights`) from step ``start`` until
    each has finished, diverged, or Ctrl-C was pressed (module docstring). Returns one
    :class:`Run` per seed, in order; ``on_step(index, info)`` sees every logged row."""
    config = seeds[0].config
    device = weights.x_train.device
    grokfast = (config.grokfast_alpha, config.grokfast_lambda) if config.grokfast_lambda else None
    active = list(seeds)  # row r of the weights is active[r]
    results: dict[int, Run] = {}
    t0 = time.perf_counter()

    def elapsed(seed: Seed) -> float:
        return seed.seconds_before + time.perf_counter() - t0

    def make_run(seed: Seed, model: nn.Module, step: int, status: str) -> Run:
        final = {k: seed.metrics[-1][k] for k in FINAL} if seed.metrics else {}
        return Run(seed.run_dir, seed.config, task, step, elapsed(seed), seed.mem_step,
                   seed.grok_step, status, final, seed.metrics, model.eval(), seed.n_train,
                   seed.n_test)  # fmt: skip

    def write_summary(seed: Seed, run: Run) -> None:
        if seed.run_dir is not None:
            summary = {**run.to_json(), **seed.extra_summary}
            store.atomic_write_json(seed.run_dir / store.SUMMARY, summary)

    def save_state(seed: Seed, row: int, step: int) -> None:
        if seed.run_dir is None:
            return
        lr, decay = seed.lr_and_decay(step)
        state = {
            "model": weights.state_dict(row),
            "optimizer": weights.optimizer_state(row, lr, decay),
            "ema": weights.ema_state(row),
            "batch_rng": seed.batch_rng.get_state(),
            "step": step,
            "seconds": elapsed(seed),
            "metrics": seed.metrics,  # one file, one rename: the resume point is one atomic step
        }
        store.atomic_torch_save(state, seed.run_dir / store.STATE)
        store.write_metrics(seed.run_dir, seed.metrics)  # a copy for readers, rebuilt on resume

    step = start
    while True:
        if interrupted[0]:
            for row, seed in enumerate(active):
                save_state(seed, row, step)
                write_summary(seed, make_run(seed, weights.model_of(row), step, "interrupted"))
            raise TrainingInterrupted(seeds[0].run_dir if len(seeds) == 1 else None, step)
        schedules = [seed.lr_and_decay(step) for seed in active]  # (lr, decay) per seed

        if config.batch_size is None:
            xb, yb, ob = weights.x_train, weights.y_train, weights.out_train
        else:
            idx = torch.stack([
                torch.randint(seed.n_train, (config.batch_size,), generator=seed.batch_rng)
                for seed in active
            ]).to(device)  # fmt: skip
            xb, yb, ob = (t.gather(1, idx) for t in
                          (weights.x_train, weights.y_train, weights.out_train))  # fmt: skip
        logits = weights.forward(xb, yb)  # (A, B, n)
        losses = seed_losses(logits, ob)  # (A,)
        loss_values = losses.tolist()

        logged = [row for row, seed in enumerate(active)
                  if step % config.log_every == 0 or seed.finished(step)]  # fmt: skip
        if logged:
            with torch.no_grad():
                train_acc = (logits.argmax(-1) == ob).float().mean(dim=1).tolist()
                train_loss = loss_values
                if config.batch_size is not None:
                    full = weights.forward(weights.x_train, weights.y_train)
                    train_loss = seed_losses(full, weights.out_train).tolist()
                    train_acc = (full.argmax(-1) == weights.out_train).float().mean(dim=1).tolist()
                test = weights.forward(weights.x_test, weights.y_test)
                test_loss = seed_losses(test, weights.out_test).tolist()
                test_acc = (test.argmax(-1) == weights.out_test).float().mean(dim=1).tolist()
                norms = weights.weight_norms()

        rows_done: list[int] = []
        for row, seed in enumerate(active):
            if not math.isfinite(loss_values[row]):
                model = weights.model_of(row)
                if seed.last_good is not None:
                    model.load_state_dict(seed.last_good)
                if seed.run_dir is not None:
                    store.write_metrics(seed.run_dir, seed.metrics)
                results[seed.index] = make_run(seed, model, step, "diverged")
                write_summary(seed, results[seed.index])
                rows_done.append(row)
                continue
            done = seed.finished(step)
            if row in logged:
                metrics_row = {
                    "step": step, "train_loss": train_loss[row], "train_acc": train_acc[row],
                    "test_loss": test_loss[row], "test_acc": test_acc[row],
                    "weight_norm": norms[row], "lr": schedules[row][0],
                    "seconds": round(elapsed(seed), 4),
                }  # fmt: skip
                happened = seed.record(metrics_row)
                if on_step is not None:
                    on_step(seed.index, StepInfo(
                        step, seed.config.steps, train_loss[row], train_acc[row], test_loss[row],
                        test_acc[row], norms[row], metrics_row["seconds"], seed.mem_step,
                        seed.grok_step, happened,
                    ))  # fmt: skip
                done = seed.finished(step)  # grokking at this very step may end the run
            if step in seed.schedule or done:
                seed.last_good, seed.last_saved = weights.state_dict(row), step
                if seed.run_dir is not None:
                    store.atomic_torch_save(seed.last_good, store.checkpoint_path(seed.run_dir, step))
                    save_state(seed, row, step)
            if done:
                status = "grokked" if step < seed.config.steps else "finished"
                run = make_run(seed, weights.model_of(row), step, status)
                if seed.run_dir is not None:
                    store.atomic_torch_save(weights.state_dict(row), seed.run_dir / store.MODEL)
                write_summary(seed, run)
                results[seed.index] = run
                rows_done.append(row)
        keep = [r for r in range(len(active)) if r not in rows_done]
        if not keep:
            break
        losses[keep].sum().backward()  # the seeds that go on; the others' gradients are not needed
        if rows_done:
            active = [active[r] for r in keep]
            weights.keep(keep)
            schedules = [schedules[r] for r in keep]
        weights.step(schedules, grokfast)
        step += 1
    return [results[seed.index] for seed in seeds]
