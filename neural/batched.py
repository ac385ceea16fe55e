"""Many seeds of one configuration, trained at once as one batched model.

Universality questions need many runs of one configuration that differ only in their seed
(the seed draws the split and the initial weights). On a GPU one small network leaves the
device idle — a step of the default transformer is a few dozen kernel launches — so N seeds
are trained as *one* model whose every parameter has a leading seed axis::

    θ_i  (shape S)   for i = 1 … N   →   Θ  (shape (N, *S)),   Θ[i] = θ_i.

The forward pass is the ordinary model's, vectorized over that axis with ``torch.vmap``
over ``torch.func.functional_call`` — the same code as a single run, so the same numbers:
a batched launch multiplies ``(N, B, d) @ (N, d, d)`` where a single run multiplies
``(B, d) @ (d, d)``. The seeds never mix: the loss is Σ_i L_i(θ_i), whose gradient with
respect to Θ[i] is ∇L_i(θ_i). Each seed keeps its own AdamW moments, its own learning-rate
and weight-decay schedule (``lr_after_grok`` starts at *its* grok step), its own events and
checkpoints, and it stops on its own (``stop_after_grok``); a finished or diverged seed is
taken out of the batch. AdamW, per seed i, exactly as :class:`torch.optim.AdamW`::

    θ ← θ (1 − η_i λ_i);   m ← β₁ m + (1 − β₁) g;   v ← β₂ v + (1 − β₂) g²
    θ ← θ − η_i / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

Each seed is stored as an ordinary run folder (:mod:`neural.store`): config, task, metrics,
checkpoints, ``model.pt``, ``summary.json`` and a ``state.pt`` in the single trainer's format
(its optimizer state is a :class:`torch.optim.AdamW` state dict), so ``load_run``,
``synthcmp compare`` and ``synthcmp train --resume`` read a batched seed unchanged.

Which device batches and which trains one run at a time is :mod:`neural.seeds`'s choice.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from neural import store
from neural.config import TrainConfig
from neural.schedule import checkpoint_steps, finished, lr_and_decay
from neural.train import (
    Run,
    StepInfo,
    TrainingInterrupted,
    check_device,
    cpu_settings,
    sigint_flag,
)
from taskcore import events
from taskcore.table import Task

__all__ = ["SeedStep", "check_same_configuration", "train_batched"]

EPS = 1e-8  # AdamW's ε (torch's default, which the single trainer uses)


@dataclass(frozen=True)
class SeedStep:
    """What ``on_step`` receives: which seed (its position in the configs) and its row."""

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


# ---------------------------------------------------------------------------------------
# The batched trainer


@dataclass(eq=False)
class _Seed:
    """One seed's own state: everything the single trainer keeps in local variables."""

    index: int
    config: TrainConfig
    run_dir: Path | None
    n_train: int
    n_test: int
    batch_rng: torch.Generator
    metrics: list[dict] = field(default_factory=list)
    mem_step: int | None = None
    grok_step: int | None = None
    schedule: set[int] = field(default_factory=set)

    def checkpoint_steps(self) -> set[int]:
        return checkpoint_steps(self.config, self.grok_step)

    def finished(self, step: int) -> bool:
        return finished(self.config, step, self.grok_step)

    def lr_and_decay(self, step: int) -> tuple[float, float]:
        return lr_and_decay(self.config, step, self.grok_step)


class _Batch:
    """The stacked parameters, AdamW moments and data of the seeds still training."""

    def __init__(self, models, splits, device, dtype):
        from torch.func import stack_module_state

        self.model = models[0]  # the template whose code runs under vmap (its own weights unused)
        params, buffers = stack_module_state(models)
        self.names = list(params)
        self.params = {k: v.to(device=device, dtype=dtype).detach().requires_grad_()
                       for k, v in params.items()}  # fmt: skip
        self.buffers = {k: v.to(device=device, dtype=dtype) for k, v in buffers.items()}
        self.exp_avg = {k: torch.zeros_like(v) for k, v in self.params.items()}
        self.exp_avg_sq = {k: torch.zeros_like(v) for k, v in self.params.items()}
        self.ema: dict[str, Tensor] | None = None
        self.opt_step = 0

        def stack(name):
            return torch.stack([torch.as_tensor(getattr(s, name), dtype=torch.long)
                                for s in splits]).to(device)  # fmt: skip

        self.x_train, self.y_train, self.out_train = map(stack, ("x_train", "y_train", "out_train"))
        self.x_test, self.y_test, self.out_test = map(stack, ("x_test", "y_test", "out_test"))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """(A, B) inputs → (A, B, n) logits, each seed through its own weights."""
        from torch.func import functional_call, vmap

        def one(params, buffers, x, y):
            return functional_call(self.model, (params, buffers), (x, y))

        return vmap(one)(self.params, self.buffers, x, y)

    def keep(self, rows: list[int]) -> None:
        """Only these seeds (rows of the batch) go on."""
        idx = torch.tensor(rows, device=self.x_train.device)

        def take(d):
            return {k: v.index_select(0, idx) for k, v in d.items()}

        params = {}
        for k, v in self.params.items():  # new leaves, with the gradients of the rows kept
            params[k] = v.detach().index_select(0, idx).requires_grad_()
            params[k].grad = None if v.grad is None else v.grad.index_select(0, idx)
        self.params = params
        self.buffers, self.exp_avg, self.exp_avg_sq = map(take, (self.buffers, self.exp_avg,
                                                                 self.exp_avg_sq))  # fmt: skip
        if self.ema is not None:
            self.ema = take(self.ema)
        for name in ("x_train", "y_train", "out_train", "x_test", "y_test", "out_test"):
            setattr(self, name, getattr(self, name).index_select(0, idx))

    def weight_norms(self) -> list[float]:
        """‖θ_i‖₂ over every trainable parameter, per seed."""
        norms = torch.stack([p.detach().flatten(1).norm(dim=1) for p in self.params.values()])
        return norms.norm(dim=0).tolist()

    def state_dict(self, row: int) -> dict:
        """Seed ``row``'s weights as the single model's state dict, on the CPU."""
        both = {**self.params, **self.buffers}
        return {k: both[k][row].detach().to("cpu", copy=True) for k in self.model.state_dict()}

    def adamw_step(self, lr: Tensor, decay: Tensor, betas: tuple[float, float]) -> None:
        """One AdamW step for every seed; ``lr`` and ``decay`` are (A,): each seed's own."""
        beta1, beta2 = betas
        self.opt_step += 1
        t = self.opt_step
        bias1, bias2_sqrt = 1 - beta1**t, math.sqrt(1 - beta2**t)
        with torch.no_grad():
            for k, p in self.params.items():
                shape = (-1,) + (1,) * (p.ndim - 1)
                g = p.grad
                p.mul_(1 - (lr * decay).view(shape))
                self.exp_avg[k].lerp_(g, 1 - beta1)
                self.exp_avg_sq[k].mul_(beta2).addcmul_(g, g, value=1 - beta2)
                denom = (self.exp_avg_sq[k].sqrt() / bias2_sqrt).add_(EPS)
                p.sub_((lr / bias1).view(shape) * self.exp_avg[k] / denom)

    def grokfast(self, alpha: float, lam: float) -> None:
        """ḡ ← α ḡ + (1 − α) g,  g ← g + λ ḡ  (as the single trainer)."""
        grads = {k: p.grad for k, p in self.params.items()}
        if self.ema is None:
            self.ema = {k: g.detach().clone() for k, g in grads.items()}
        else:
            for k, g in grads.items():
                self.ema[k].lerp_(g, 1.0 - alpha)
        for k, g in grads.items():
            g.add_(self.ema[k], alpha=lam)

    def optimizer_state(self, row: int, template: dict, lr: float, decay: float) -> dict:
        """Seed ``row``'s AdamW state as :meth:`torch.optim.AdamW.state_dict` writes it."""
        state = {}
        for i, k in enumerate(self.names):
            state[i] = {
                "step": torch.tensor(float(self.opt_step)),
                "exp_avg": self.exp_avg[k][row].detach().to("cpu", copy=True),
                "exp_avg_sq": self.exp_avg_sq[k][row].detach().to("cpu", copy=True),
            }
        groups = [{**g, "lr": lr, "weight_decay": decay} for g in template["param_groups"]]
        return {"state": state if self.opt_step else {}, "param_groups": groups}


def train_batched(
    task: Task,
    configs: list[TrainConfig],
    run_dirs: list[str | Path] | None = None,
    on_step: Callable[[SeedStep], None] | None = None,
    force: bool = False,
) -> list[Run]:
    """Train every config's seed at once as one batched model (see the module docstring).

    Raises :class:`~neural.train.TrainingInterrupted` on Ctrl-C after saving each unfinished
    seed's resume point (``run_dir`` None; each seed continues with ``synthcmp train
    --resume``), and :class:`~neural.store.RunError` for a device this machine lacks or a run
    folder that cannot be used.
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
        return _train_batched(task, configs, paths, on_step, interrupted)


def _train_batched(task, configs, paths, on_step, interrupted) -> list[Run]:
    config = configs[0]
    device = torch.device(config.device)
    dtype = torch.float32 if config.dtype == "float32" else torch.float64
    splits = [task.split(c.train_frac, c.seed) for c in configs]
    models = []
    for c, path in zip(configs, paths, strict=True):
        with torch.random.fork_rng(devices=[]):  # each seed's init, as the single trainer's
            torch.manual_seed(c.seed)
            models.append(store.build(c, task.n, path))
    template = torch.optim.AdamW(
        models[0].parameters(), lr=config.lr, weight_decay=config.weight_decay, betas=config.betas
    ).state_dict()  # the param_groups a resumed single run expects
    batch = _Batch(models, splits, device, dtype)
    seeds = [
        _Seed(i, c, path, s.n_train, s.n_test, torch.Generator().manual_seed(c.seed + 1))
        for i, (c, path, s) in enumerate(zip(configs, paths, splits, strict=True))
    ]
    for seed in seeds:
        seed.schedule = seed.checkpoint_steps()
    active = list(seeds)  # row r of the batch is active[r]
    results: dict[int, Run] = {}
    t0 = time.perf_counter()

    def elapsed() -> float:
        return time.perf_counter() - t0

    def make_run(seed: _Seed, row: int | None, step: int, status: str) -> Run:
        keys = ("train_acc", "test_acc", "train_loss", "test_loss", "weight_norm")
        final = {k: seed.metrics[-1][k] for k in keys} if seed.metrics else {}
        with torch.random.fork_rng(devices=[]):  # a diverged seed (row None): its init
            torch.manual_seed(seed.config.seed)
            model = store.build(seed.config, task.n).to(dtype=dtype)
        if row is not None:
            model.load_state_dict(batch.state_dict(row))
        model = model.eval()
        return Run(seed.run_dir, seed.config, task, step, elapsed(), seed.mem_step,
                   seed.grok_step, status, final, seed.metrics, model, seed.n_train,
                   seed.n_test)  # fmt: skip

    def write_summary(seed: _Seed, run: Run) -> None:
        if seed.run_dir is not None:
            summary = {**run.to_json(), "batched_seeds": len(configs)}
            store.atomic_write_json(seed.run_dir / store.SUMMARY, summary)

    def save_state(seed: _Seed, row: int, step: int) -> None:
        if seed.run_dir is None:
            return
        lr, decay = seed.lr_and_decay(step)
        ema = [batch.ema[k][row].detach().cpu() for k in batch.names] if batch.ema else []
        state = {
            "model": batch.state_dict(row),
            "optimizer": batch.optimizer_state(row, template, lr, decay),
            "ema": ema,
            "batch_rng": seed.batch_rng.get_state(),
            "step": step,
            "seconds": elapsed(),
            "metrics": seed.metrics,
        }
        store.atomic_torch_save(state, seed.run_dir / store.STATE)
        store.write_metrics(seed.run_dir, seed.metrics)

    step = 0
    while True:
        if interrupted[0]:
            for row, seed in enumerate(active):
                save_state(seed, row, step)
                write_summary(seed, make_run(seed, row, step, "interrupted"))
            raise TrainingInterrupted(None, step)
        schedules = [seed.lr_and_decay(step) for seed in active]
        lr = torch.tensor([s[0] for s in schedules], device=device, dtype=dtype)
        decay = torch.tensor([s[1] for s in schedules], device=device, dtype=dtype)

        if config.batch_size is None:
            xb, yb, ob = batch.x_train, batch.y_train, batch.out_train
        else:
            idx = torch.stack([
                torch.randint(seed.n_train, (config.batch_size,), generator=seed.batch_rng)
                for seed in active
            ]).to(device)  # fmt: skip
            xb, yb, ob = (t.gather(1, idx) for t in (batch.x_train, batch.y_train, batch.out_train))
        logits = batch.forward(xb, yb)  # (A, B, n)
        A, B = ob.shape
        losses = F.cross_entropy(logits.float().flatten(0, 1), ob.flatten(), reduction="none")
        losses = losses.view(A, B).mean(dim=1)  # (A,): each seed's mean cross-entropy
        loss_values = losses.tolist()

        rows_done: list[int] = []
        logged = [row for row, seed in enumerate(active)
                  if step % config.log_every == 0 or seed.finished(step)]  # fmt: skip
        if logged:
            with torch.no_grad():
                train_acc = (logits.argmax(-1) == ob).float().mean(dim=1).tolist()
                if config.batch_size is not None:
                    full = batch.forward(batch.x_train, batch.y_train)
                    train_loss = [F.cross_entropy(full[r].float(), batch.out_train[r]).item()
                                  for r in range(A)]  # fmt: skip
                    train_acc = (full.argmax(-1) == batch.out_train).float().mean(dim=1).tolist()
                test = batch.forward(batch.x_test, batch.y_test)
                test_loss = F.cross_entropy(test.float().flatten(0, 1), batch.out_test.flatten(),
                                            reduction="none").view(A, -1).mean(dim=1).tolist()  # fmt: skip
                test_acc = (test.argmax(-1) == batch.out_test).float().mean(dim=1).tolist()
                norms = batch.weight_norms()
        for row, seed in enumerate(active):
            if not math.isfinite(loss_values[row]):
                if seed.run_dir is not None:
                    store.write_metrics(seed.run_dir, seed.metrics)
                run = make_run(seed, None, step, "diverged")
                write_summary(seed, run)
                results[seed.index] = run
                rows_done.append(row)
                continue
            done = seed.finished(step)
            if row in logged:
                row_loss = loss_values[row] if config.batch_size is None else train_loss[row]
                metrics_row = {
                    "step": step, "train_loss": row_loss, "train_acc": train_acc[row],
                    "test_loss": test_loss[row], "test_acc": test_acc[row],
                    "weight_norm": norms[row], "lr": schedules[row][0],
                    "seconds": round(elapsed(), 4),
                }  # fmt: skip
                happened: tuple[str, ...] = ()
                if seed.mem_step is None and events.memorized(metrics_row):
                    seed.mem_step, happened = step, happened + ("memorized",)
                if seed.grok_step is None and events.grokked(metrics_row):
                    seed.grok_step, happened = step, happened + ("grokked",)
                    seed.schedule = seed.checkpoint_steps()
                seed.metrics.append(metrics_row)
                if on_step is not None:
                    on_step(SeedStep(seed.index, StepInfo(
                        step, seed.config.steps, row_loss, train_acc[row], test_loss[row],
                        test_acc[row], norms[row], metrics_row["seconds"], seed.mem_step,
                        seed.grok_step, happened,
                    )))  # fmt: skip
                done = seed.finished(step)
            if seed.run_dir is not None and (step in seed.schedule or done):
                store.atomic_torch_save(batch.state_dict(row),
                                        store.checkpoint_path(seed.run_dir, step))  # fmt: skip
                save_state(seed, row, step)
            if done:
                run = make_run(seed, row, step, "grokked" if step < seed.config.steps else "finished")
                if seed.run_dir is not None:
                    store.atomic_torch_save(batch.state_dict(row), seed.run_dir / store.MODEL)
                    write_summary(seed, run)
                results[seed.index] = run
                rows_done.append(row)
        keep = [r for r in range(len(active)) if r not in rows_done]
        if not keep:
            break
        losses[keep].sum().backward()  # the seeds that go on; the others' gradients are not needed
        if rows_done:
            active = [active[r] for r in keep]
            batch.keep(keep)
            lr, decay = lr[keep], decay[keep]
        if config.grokfast_lambda:
            batch.grokfast(config.grokfast_alpha, config.grokfast_lambda)
        batch.adamw_step(lr, decay, config.betas)
        for p in batch.params.values():
            p.grad = None
        step += 1
    return [results[i] for i in range(len(configs))]

