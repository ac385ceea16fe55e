"""The trainer: full-batch AdamW on a task's training split, watching for the two events.

Grokking (Power et al. 2022) has two moments worth a name:

* ``memorization_step`` — the first logged step where the network fits every training pair
  (for a lookup table that is all it can do);
* ``grok_step`` — the first logged step where test accuracy reaches 99%: it has found the
  rule. For modular addition that is the Fourier "clock" circuit (Nanda et al. 2023).

Both are defined once, in :mod:`taskcore.events`. Test labels are always clean (label noise
only touches the training labels, :meth:`taskcore.table.Task.split`).

Each step takes the cross-entropy on the training pairs, ``loss = −mean log softmax(f(x,y))[f]``,
and one AdamW update (decoupled weight decay, the pressure towards the low-norm general
solution). Optionally the Grokfast filter (Lee et al. 2024) first adds an exponential
moving average of past gradients to the gradient,

    ḡ ← α ḡ + (1 − α) g,        g ← g + λ ḡ,

which amplifies the slow drift that leads to the general solution. Every ``log_every``
steps a metrics row records train and test loss and accuracy (of the same weights) and the
weight norm ``‖θ‖₂``. Training is deterministic on the CPU for a fixed config: the only
randomness is the seeded initialisation (and minibatch sampling, if asked for, from a
seeded generator whose state is checkpointed).

A run is a folder (:mod:`neural.store`). ``resume=True`` continues from ``state.pt`` and
ends with the same numbers as an uninterrupted run, because the state holds everything
the next step reads: weights, optimiser moments, Grokfast EMA, RNG, step — and the metrics
rows so far, so that the resume point is one file written in one atomic step. While it
trains, the run holds its folder's lock (:func:`neural.store.open_run`).
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from neural import store
from neural.config import DEFAULTS, REFERENCE, TrainConfig, default_config
from neural.schedule import checkpoint_steps, finished, lr_and_decay
from taskcore import events
from taskcore.table import Task

__all__ = [
    "DEFAULTS", "REFERENCE", "Run", "StepInfo", "TrainConfig", "TrainingDiverged",
    "TrainingInterrupted", "default_config", "train",
]  # fmt: skip


class TrainingDiverged(store.RunError):
    """The loss became NaN or infinite; the run folder keeps its last good checkpoint."""


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
    """The result of :func:`train`. ``to_json()`` is the run's ``summary.json``."""

    run_dir: Path | None
    config: TrainConfig
    task: Task
    steps: int  # steps actually trained
    seconds: float
    memorization_step: int | None
    grok_step: int | None
    status: str  # "grokked" (stopped after grokking) | "finished" (ran all steps)
    #            | "interrupted" | "diverged" (in summary.json only: train() raised)
    final: dict
    metrics: list[dict] = field(repr=False)
    model: nn.Module = field(repr=False)
    n_train: int = 0
    n_test: int = 0

    def to_json(self) -> dict:
        return {
            "run_dir": str(self.run_dir) if self.run_dir is not None else None,
            "steps": self.steps,
            "seconds": round(self.seconds, 3),
            "memorization_step": self.memorization_step,
            "grok_step": self.grok_step,
            "final": self.final,
            "status": self.status,
            "steps_per_second": round(self.steps / self.seconds, 2) if self.seconds > 0 else None,
            "task": self.task.describe(),
            "model": self.config.model.kind,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "chance_acc": 1.0 / self.task.n,
            "config": self.config.to_json(),
        }


# ---------------------------------------------------------------------------------------


@contextmanager
def cpu_settings(threads: int | None) -> Iterator[None]:
    """Use ``threads`` CPU threads and flush denormal floats to zero during the run.

    Why one thread by default: a second thread speeds up an idle 2-core machine, but on a
    busy one two spinning OpenMP threads are several times *slower* than one (tiny matmuls
    wait on each other), and a laptop is rarely idle; docs/defaults.md has the numbers.

    Why flush denormals: once the network fits its data, the softmax gives the wrong
    classes probabilities below 1.2e-38 (float32's smallest normal number), and x86
    arithmetic on such denormals is slow (steps took 2–3× longer). Zero instead of 1e-40
    changes no loss or accuracy we report. torch cannot read the flag back, so it is reset
    to torch's default (off) afterwards.
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


def loss_and_acc(logits: Tensor, labels: Tensor) -> tuple[float, float]:
    loss = F.cross_entropy(logits.float(), labels).item()
    return loss, (logits.argmax(-1) == labels).float().mean().item()


def weight_norm(params: list[Tensor]) -> float:
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(params))).item()


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


def _train(task, config, on_step, run_dir, resume, interrupted) -> Run:
    device = torch.device(config.device)
    dtype = torch.float32 if config.dtype == "float32" else torch.float64
    split = task.split(config.train_frac, config.seed)

    def tensors(*arrays):
        return [torch.as_tensor(a, dtype=torch.long, device=device) for a in arrays]

    x_train, y_train, out_train = tensors(split.x_train, split.y_train, split.out_train)
    x_test, y_test, out_test = tensors(split.x_test, split.y_test, split.out_test)

    with torch.random.fork_rng(devices=[]):  # seed the init without touching the caller's RNG
        torch.manual_seed(config.seed)
        model = store.build(config, task.n, run_dir)
    model = model.to(device=device, dtype=dtype)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        params, lr=config.lr, weight_decay=config.weight_decay, betas=config.betas
    )
    batch_rng = torch.Generator().manual_seed(config.seed + 1)
    ema: list[Tensor] | None = None
    start, seconds_before, metrics = 0, 0.0, []

    if resume:
        state = store.load_state(run_dir, device=str(device))
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            ema = [t.to(device) for t in state["ema"]] if state["ema"] else None
            batch_rng.set_state(state["batch_rng"])
            start, seconds_before = int(state["step"]), float(state["seconds"])
        except (RuntimeError, TypeError, KeyError, ValueError, IndexError, AttributeError):
            raise store.RunError(f"{run_dir / store.STATE} does not fit this run") from None
        # the rows live in the resume point itself (older runs: in metrics.jsonl)
        rows = state["metrics"] if "metrics" in state else store.read_metrics(run_dir)
        metrics = [row for row in rows if row["step"] < start]
        store.write_metrics(run_dir, metrics)

    mem_step, grok_step = events.memorization_step(metrics), events.grok_step(metrics)

    schedule = checkpoint_steps(config, grok_step)
    last_saved = max((s for s in schedule if s < start), default=None) if resume else None
    t0 = time.perf_counter()

    def elapsed() -> float:
        return seconds_before + time.perf_counter() - t0

    def save_state(step: int) -> None:
        if run_dir is None:
            return
        state = {
            "model": store.cpu_state_dict(model),
            "optimizer": optimizer.state_dict(),
            "ema": [t.detach().cpu() for t in ema] if ema is not None else [],
            "batch_rng": batch_rng.get_state(),
            "step": step,
            "seconds": elapsed(),
            "metrics": metrics,  # one file, one rename: the resume point is one atomic step
        }
        store.atomic_torch_save(state, run_dir / store.STATE)
        store.write_metrics(run_dir, metrics)  # a copy for readers, rebuilt on resume

    def make_run(step: int, status: str) -> Run:
        keys = ("train_acc", "test_acc", "train_loss", "test_loss", "weight_norm")
        final = {k: metrics[-1][k] for k in keys} if metrics else {}
        return Run(
            run_dir, config, task, step, elapsed(), mem_step, grok_step, status, final,
            metrics, model, split.n_train, split.n_test,
        )  # fmt: skip

    def write_summary(step: int, status: str) -> None:
        """summary.json always says where the folder stands, also when training stopped."""
        if run_dir is not None:
            store.atomic_write_json(run_dir / store.SUMMARY, make_run(step, status).to_json())

    step = start
    while True:
        if interrupted[0]:
            save_state(step)
            write_summary(step, "interrupted")
            raise TrainingInterrupted(run_dir, step)
        lr, decay = lr_and_decay(config, step, grok_step)
        for group in optimizer.param_groups:
            group["lr"], group["weight_decay"] = lr, decay

        if config.batch_size is None:
            xb, yb, ob = x_train, y_train, out_train
        else:
            idx = torch.randint(len(x_train), (config.batch_size,), generator=batch_rng).to(device)
            xb, yb, ob = x_train[idx], y_train[idx], out_train[idx]
        logits = model(xb, yb)  # (B, n)
        loss = F.cross_entropy(logits.float(), ob)
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            if run_dir is not None:
                store.write_metrics(run_dir, metrics)
                write_summary(step, "diverged")
            where = (
                f"; the last good checkpoint is step {last_saved} in {run_dir}"
                if last_saved is not None and run_dir
                else ""
            )
            raise TrainingDiverged(
                f"training diverged: the loss became {loss_value} at step {step}{where}. "
                f"Try a smaller learning rate (lr = {config.lr:g} now)."
            )

        done = finished(config, step, grok_step)
        if step % config.log_every == 0 or done:
            with torch.no_grad():
                if config.batch_size is None:
                    train_loss, train_acc = (
                        loss_value,
                        (logits.argmax(-1) == ob).float().mean().item(),
                    )
                else:
                    train_loss, train_acc = loss_and_acc(model(x_train, y_train), out_train)
                test_loss, test_acc = loss_and_acc(model(x_test, y_test), out_test)
                norm = weight_norm(params)
            row = {
                "step": step, "train_loss": train_loss, "train_acc": train_acc,
                "test_loss": test_loss, "test_acc": test_acc, "weight_norm": norm,
                "lr": optimizer.param_groups[0]["lr"], "seconds": round(elapsed(), 4),
            }  # fmt: skip
            happened = ()
            if mem_step is None and events.memorized(row):
                mem_step, happened = step, happened + ("memorized",)
            if grok_step is None and events.grokked(row):
                grok_step, happened = step, happened + ("grokked",)
                schedule = checkpoint_steps(config, grok_step)  # denser over the cleanup that follows
            metrics.append(row)
            if on_step is not None:
                on_step(StepInfo(
                    step, config.steps, train_loss, train_acc, test_loss, test_acc, norm,
                    row["seconds"], mem_step, grok_step, happened,
                ))  # fmt: skip
            done = finished(config, step, grok_step)  # grokking at this very step may end the run
        if run_dir is not None and (step in schedule or done):
            store.atomic_torch_save(
                store.cpu_state_dict(model), store.checkpoint_path(run_dir, step)
            )
            save_state(step)
            last_saved = step
        if done:
            break

        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grokfast_lambda:
            grads = [p.grad for p in params]
            if ema is None:
                ema = [g.detach().clone() for g in grads]
            else:  # ḡ ← α ḡ + (1 − α) g
                torch._foreach_lerp_(ema, grads, 1.0 - config.grokfast_alpha)
            torch._foreach_add_(grads, ema, alpha=config.grokfast_lambda)  # g ← g + λ ḡ
        optimizer.step()
        step += 1

    model.eval()
    run = make_run(step, "grokked" if step < config.steps else "finished")
    if run_dir is not None:
        store.atomic_torch_save(store.cpu_state_dict(model), run_dir / store.MODEL)
        store.atomic_write_json(run_dir / store.SUMMARY, run.to_json())
    return run
