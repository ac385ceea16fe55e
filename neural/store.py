"""The run folder: everything a training run leaves behind, written so a kill never corrupts it.

Layout::

    RUN/
      config.json        TrainConfig.to_json()
      task.json          Task.to_json(): the whole table, so the run is self-contained
      metrics.jsonl      one JSON object per logged step (step, train/test loss & acc, ...)
      checkpoints/       step_000123.pt: model state_dicts on a log-spaced + uniform schedule
      state.pt           the resume point: model, optimiser, Grokfast EMA, RNG, step
      model.pt           the final model's state_dict
      summary.json       the result (the ``synthcmp train --json`` document)

Every file is written whole to a temporary name in the same folder and then renamed over
the target (:func:`taskcore.files.atomic_write`): ``os.replace`` is atomic, so a reader — or
a resumed run — sees either the old file or the new one, never half of one. Weights are
plain ``state_dict`` tensors saved with ``torch.save`` and read back with
``torch.load(..., weights_only=True)``, which refuses to unpickle arbitrary objects.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from torch import nn

from neural.config import RESUMABLE_CHANGES, TrainConfig
from neural.models import build_model
from taskcore.errors import TaskError
from taskcore.files import (  # noqa: F401  (re-exported: the run store's writers)
    atomic_write,
    atomic_write_json,
    atomic_write_text,
    clear_temp_files,
)
from taskcore.table import Split, Task

CONFIG, TASK, METRICS, SUMMARY = "config.json", "task.json", "metrics.jsonl", "summary.json"
STATE, MODEL, CHECKPOINTS = "state.pt", "model.pt", "checkpoints"


class RunError(TaskError):
    """A run folder that cannot be used as asked (exists, is missing, does not match)."""


def atomic_torch_save(obj, path: str | Path) -> None:
    atomic_write(path, lambda f: torch.save(obj, f))


def load_weights(path: str | Path, device: str = "cpu") -> dict:
    """A state dict (or a resume state of tensors and plain values), never arbitrary objects."""
    return torch.load(path, map_location=device, weights_only=True)


# ---------------------------------------------------------------------------------------
# Writing a run


def checkpoint_schedule(
    steps: int, count: int, grok_step: int | None = None, stop_after_grok: int | None = None
) -> list[int]:
    """About ``count`` steps in 0..steps: half log-spaced (dense early, where memorization
    happens fast), half uniform (for the slow circuit formation and cleanup), plus both ends.

    A run that stops ``stop_after_grok`` steps after grokking ends long before ``steps``,
    so once the grok step is known a quarter of ``count`` more are spread uniformly over
    ``grok_step .. grok_step + stop_after_grok``: the cleanup phase stays drawn. (A pure
    function of the config and the grok step, so a resumed run keeps the same schedule.)
    """
    if steps <= 0:
        return [0]
    half = max(count // 2, 1)
    points = {0, steps}
    points.update(np.rint(np.geomspace(1, steps, half)).astype(int).tolist())
    points.update(np.rint(np.linspace(0, steps, half + 1)).astype(int).tolist())
    if grok_step is not None and stop_after_grok is not None:
        end = min(grok_step + stop_after_grok, steps)
        points.update(np.rint(np.linspace(grok_step, end, max(count // 4, 2))).astype(int).tolist())
    return sorted(points)


def checkpoint_path(run_dir: Path, step: int) -> Path:
    return run_dir / CHECKPOINTS / f"step_{step:06d}.pt"


def cpu_state_dict(model: nn.Module) -> dict:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def looks_like_run(folder: Path) -> bool:
    return (folder / CONFIG).exists() or (folder / STATE).exists()


def prepare_run_dir(
    run_dir: str | Path, task: Task, config: TrainConfig, resume: bool, force: bool
) -> Path:
    """Create (or, for ``resume``, check) a run folder; never overwrite one without ``force``.

    ``force`` deletes an existing *run* folder (one with a config.json or state.pt) or an
    empty one; it refuses to delete any other folder, so a slip like ``--out . --force``
    cannot wipe a project.
    """
    run_dir = Path(run_dir)
    if resume:
        if not (run_dir / STATE).exists():
            raise RunError(f"nothing to resume in {run_dir}: no {STATE} there")
        check_resumable(run_dir, task, config)
        clear_temp_files(run_dir)
        atomic_write_json(run_dir / CONFIG, config.to_json())
        return run_dir
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        if not force:
            raise RunError(
                f"run folder {run_dir} already exists; use --force to overwrite it "
                "or --resume to continue it"
            )
        if not run_dir.is_dir() or not looks_like_run(run_dir):
            raise RunError(f"{run_dir} exists and is not a run folder; refusing to delete it")
        shutil.rmtree(run_dir)
    (run_dir / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
    atomic_write_json(run_dir / CONFIG, config.to_json())
    atomic_write_text(run_dir / TASK, json.dumps(task.to_json()))
    return run_dir


def check_resumable(run_dir: Path, task: Task, config: TrainConfig) -> None:
    """A resumed run must be the same run: same task table, same config but for its length."""
    stored = TrainConfig.from_json(json.loads((run_dir / CONFIG).read_text()))
    old, new = stored.to_json(), config.to_json()
    changed = [k for k in new if k not in RESUMABLE_CHANGES and old.get(k) != new[k]]
    if changed:
        what = ", ".join(f"{k} {old.get(k)} → {new[k]}" for k in changed)
        raise RunError(f"cannot resume {run_dir} with different settings ({what})")
    old_task = Task.from_json(json.loads((run_dir / TASK).read_text()))
    if old_task.n != task.n or not np.array_equal(old_task.table, task.table):
        raise RunError(
            f"cannot resume {run_dir}: it was trained on a different task ({old_task.name}, n = {old_task.n})"
        )


def write_metrics(run_dir: Path, metrics: list[dict]) -> None:
    atomic_write_text(run_dir / METRICS, "".join(json.dumps(row) + "\n" for row in metrics))


def read_metrics(run_dir: Path) -> list[dict]:
    path = run_dir / METRICS
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------
# Reading a run


@dataclass(frozen=True, eq=False)
class LoadedRun:
    """A finished (or interrupted) run read back from its folder, for compare and reports."""

    run_dir: Path
    task: Task
    config: TrainConfig
    metrics: list[dict]
    checkpoint_steps: list[int]
    summary: dict

    @cached_property
    def split(self) -> Split:
        """The split the network was trained on (the same one synth sees)."""
        return self.task.split(self.config.train_frac, self.config.seed)

    def load_model(self, step: int | None = None) -> nn.Module:
        """The model at checkpoint ``step`` (``None``: the final model, or the latest
        checkpoint if the run did not finish), on the CPU, in eval mode."""
        if step is None:
            path = self.run_dir / MODEL
            if not path.exists():
                if not self.checkpoint_steps:
                    raise RunError(f"{self.run_dir} holds no model or checkpoint yet")
                path = checkpoint_path(self.run_dir, self.checkpoint_steps[-1])
        else:
            if step not in self.checkpoint_steps:
                raise RunError(
                    f"no checkpoint at step {step} in {self.run_dir} "
                    f"(there are {len(self.checkpoint_steps)}, from {self.checkpoint_steps[:1]} to {self.checkpoint_steps[-1:]})"
                )
            path = checkpoint_path(self.run_dir, step)
        model = build_model(self.config.model, self.task.n)
        model.load_state_dict(load_weights(path))
        return model.to(torch.float32 if self.config.dtype == "float32" else torch.float64).eval()


def load_run(run_dir: str | Path) -> LoadedRun:
    """Read a run folder written by :func:`neural.train.train`."""
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG).exists():
        raise RunError(f"{run_dir} is not a run folder (no {CONFIG})")
    config = TrainConfig.from_json(json.loads((run_dir / CONFIG).read_text()))
    task = Task.from_json(json.loads((run_dir / TASK).read_text()))
    steps = sorted(int(p.stem.split("_")[1]) for p in (run_dir / CHECKPOINTS).glob("step_*.pt"))
    summary_path = run_dir / SUMMARY
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    return LoadedRun(run_dir, task, config, read_metrics(run_dir), steps, summary)
