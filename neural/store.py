"""The run folder: everything a training run leaves behind, written so a kill never corrupts it.

Layout::

    RUN/
      .synthcmp-run      the marker: this folder was made by synthcmp (and its format version)
      .lock              locked (``fcntl``) by the one process that works in the folder
      config.json        TrainConfig.to_json()
      task.json          Task.to_json(): the whole table, so the run is self-contained
      metrics.jsonl      one JSON object per logged step (step, train/test loss & acc, ...)
      checkpoints/       step_000123.pt: model state_dicts on a log-spaced + uniform schedule
      state.pt           the resume point: model, optimiser, Grokfast EMA, RNG, step, metrics
      model.pt           the final model's state_dict
      summary.json       the result (the ``synthcmp train --json`` document)

Every file is written whole to a temporary name in the same folder and then renamed over
the target (:func:`taskcore.files.atomic_write`): ``os.replace`` is atomic, so a reader — or
a resumed run — sees either the old file or the new one, never half of one. The resume
point is one file: ``state.pt`` holds the metrics rows too, and ``metrics.jsonl`` is a copy
of them for readers, so a kill between two writes cannot lose a row.

A folder is *owned* for as long as the work lasts (:func:`open_run`): one process at a time
(the lock), and ``force`` deletes only what is provably a run (the marker file), never
through a symbolic link. A run that fails before its first resume point leaves nothing.

Reading is hostile-proof: weights are plain ``state_dict`` tensors read back with
``torch.load(..., weights_only=True)`` (no arbitrary unpickling), JSON files are read only as
regular files under a size cap, and a missing, empty, truncated or garbage file is a
:class:`RunError` naming the file, never a traceback.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import types
import typing
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from torch import nn

from neural.config import RESUMABLE_CHANGES, TrainConfig
from neural.models import build_model
from taskcore.errors import TaskError
from taskcore.files import (  # noqa: F401  (re-exported: the run store's writers)
    LOCK_FILE,
    atomic_write,
    atomic_write_json,
    atomic_write_text,
    clear_temp_files,
    is_marked,
    owned_folder,
    read_json_capped,
    read_text_capped,
)
from taskcore.table import Split, Task, check_seed

CONFIG, TASK, METRICS, SUMMARY = "config.json", "task.json", "metrics.jsonl", "summary.json"
STATE, MODEL, CHECKPOINTS = "state.pt", "model.pt", "checkpoints"
MARKER, FORMAT = ".synthcmp-run", 1
MAX_FILE_BYTES = 2**30  # a run file larger than this is not one we wrote
ROW_KEYS = ("step", "train_loss", "train_acc", "test_loss", "test_acc", "weight_norm")
STATE_KEYS = ("model", "optimizer", "ema", "batch_rng", "step", "seconds")
_CHECKPOINT_NAME = re.compile(r"step_(\d{1,12})\.pt")


class RunError(TaskError):
    """A run folder that cannot be used as asked (exists, is missing, is corrupt, does not match)."""


def atomic_torch_save(obj, path: str | Path) -> None:
    """``torch.save`` to ``path`` atomically. The bytes are made in memory first: torch's own
    file writer turns a full disk into a RuntimeError, where a plain write raises the OSError
    that :func:`~taskcore.files.atomic_write` reports as one line."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    data = buffer.getbuffer()
    atomic_write(path, lambda f: f.write(data))


# ---------------------------------------------------------------------------------------
# Reading the files of a run: every failure is a RunError that names the file


def _regular_file(path: Path, empty_ok: bool = False) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise RunError(f"{path} is missing (the run folder is incomplete)") from None
    except OSError as err:
        raise RunError(f"cannot read {path}: {err.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise RunError(f"{path} is not a regular file")
    if info.st_size == 0 and not empty_ok:
        raise RunError(f"{path} is empty (the run folder is damaged)")


def read_json(path: Path) -> object:
    """A JSON document of the run folder (NaN and infinities allowed, as the writers use them)."""
    _regular_file(path)
    try:
        return read_json_capped(path, MAX_FILE_BYTES, "run file")
    except TaskError as err:
        raise RunError(str(err)) from None


def load_weights(path: str | Path, device: str = "cpu") -> dict:
    """A state dict (or a resume state of tensors and plain values), never arbitrary objects."""
    path = Path(path)
    _regular_file(path)
    try:
        with warnings.catch_warnings():  # a hostile pickle's protocol warning is no news: it
            warnings.simplefilter("ignore")  # is refused below, in one line
            obj = torch.load(path, map_location=device, weights_only=True)
    except Exception:  # a damaged file can fail in any of torch's readers, with any error
        raise RunError(
            f"{path} is not a readable weights file (truncated, damaged or not from synthcmp)"
        ) from None
    if not isinstance(obj, dict):
        raise RunError(f"{path} does not hold weights (it holds a {type(obj).__name__})")
    return obj


def build(config: TrainConfig, n: int, run_dir: Path | None = None) -> nn.Module:
    """The network ``config`` describes, for ``n`` symbols (a RunError if it cannot be built)."""
    try:
        return build_model(config.model, n)
    except (RuntimeError, MemoryError):  # sizes beyond this machine's memory
        where = f" of {run_dir / CONFIG}" if run_dir is not None else ""
        raise RunError(f"the network{where} is too large to build on this machine") from None


def load_into(model: nn.Module, weights: dict, path: Path) -> nn.Module:
    """``model.load_state_dict(weights)``, or a RunError naming the file the weights came from."""
    try:
        model.load_state_dict(weights)
    except (RuntimeError, TypeError, KeyError, ValueError, AttributeError) as err:
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
        raise RunError(f"{path} does not hold this run's network ({reason})") from None
    return model


def _well_typed(obj) -> bool:
    """Does every field of a (nested) config dataclass hold a value of its declared type?"""
    hints = typing.get_type_hints(type(obj))
    values = ((getattr(obj, f.name), hints[f.name]) for f in fields(obj))
    return all(_well_typed(v) if is_dataclass(v) else _is(v, tp) for v, tp in values)


def _is(value, tp) -> bool:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_is(value, a) for a in args)
    if origin is tuple:
        return isinstance(value, tuple) and len(value) == len(args) and all(map(_is, value, args))
    if tp in (int, float):
        return isinstance(value, int if tp is int else (int, float)) and not isinstance(value, bool)
    return isinstance(value, tp)


def read_config(run_dir: Path) -> TrainConfig:
    path = run_dir / CONFIG
    data = read_json(path)
    try:
        config = TrainConfig.from_json(data)
        if not isinstance(data, dict) or not _well_typed(config):
            raise ValueError("a field has the wrong type")
        check_seed(config.seed)
        if not (config.threads is None or 1 <= config.threads <= 1024):
            raise ValueError(f"threads {config.threads}")
    except (TaskError, KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
        raise RunError(f"{path} is not a valid training config ({err})") from None
    return config


def read_task(run_dir: Path) -> Task:
    path = run_dir / TASK
    data = read_json(path)
    try:
        return Task.from_json(data)
    except (TaskError, KeyError, TypeError, ValueError, AttributeError) as err:
        raise RunError(f"{path} is {err}") from None


def _is_row(row) -> bool:
    return (
        isinstance(row, dict)
        and all(_is(row.get(k), float) for k in ROW_KEYS)
        and _is(row["step"], int)
        and row["step"] >= 0
    )


def check_rows(rows, path: Path) -> list[dict]:
    if not isinstance(rows, list):
        raise RunError(f"{path} holds no metrics rows")
    for i, row in enumerate(rows):
        if not _is_row(row):
            raise RunError(f"{path}: row {i + 1} is not a metrics row (step, losses, accuracies)")
    return rows


def read_metrics(run_dir: Path) -> list[dict]:
    """The logged rows (none while the file does not exist)."""
    path = run_dir / METRICS
    if not os.path.lexists(path):
        return []
    _regular_file(path, empty_ok=True)
    try:
        lines = read_text_capped(path, MAX_FILE_BYTES, "run file").splitlines()
        rows = [json.loads(line) for line in lines if line.strip()]
    except TaskError as err:
        raise RunError(str(err)) from None
    except (ValueError, RecursionError):
        raise RunError(f"{path} is not JSON lines (the file is damaged)") from None
    return check_rows(rows, path)


def read_summary(run_dir: Path) -> dict:
    """``summary.json`` ({} while the run has not written one)."""
    path = run_dir / SUMMARY
    if not os.path.lexists(path):
        return {}
    summary = read_json(path)
    if not isinstance(summary, dict):
        raise RunError(f"{path} is not a run summary")
    return summary


def load_state(run_dir: Path, device: str = "cpu") -> dict:
    """The resume point, checked for the keys the trainer reads."""
    path = run_dir / STATE
    state = load_weights(path, device)
    missing = [k for k in STATE_KEYS if k not in state]
    if missing or not _is(state["step"], int) or state["step"] < 0:
        raise RunError(
            f"{path} is not a resume point (missing or bad: {', '.join(missing) or 'step'})"
        )
    if "metrics" in state:
        check_rows(state["metrics"], path)
    return state


def checkpoint_steps(run_dir: Path) -> list[int]:
    folder = run_dir / CHECKPOINTS
    if not folder.is_dir():
        return []
    names = (_CHECKPOINT_NAME.fullmatch(p.name) for p in folder.iterdir())
    return sorted(int(m.group(1)) for m in names if m)


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


def nothing_trained(folder: Path) -> bool:
    """A run folder synthcmp made where no step was saved: no resume point, no model, no
    checkpoint, no metrics (a run killed while it searched programs, or before its first
    checkpoint). Such a folder holds nothing to continue, and nothing to lose."""
    checkpoints = folder / CHECKPOINTS
    return (is_run_folder(folder) and not any(os.path.lexists(folder / name)
                                              for name in (STATE, MODEL, METRICS, SUMMARY))
            and (not os.path.lexists(checkpoints)
                 or (checkpoints.is_dir() and not checkpoints.is_symlink()
                     and not any(checkpoints.iterdir()))))  # fmt: skip


def is_run_folder(folder: Path) -> bool:
    """Provably a synthcmp run: it holds the marker as a regular file (not a link to one)."""
    return is_marked(folder, MARKER)


@contextmanager
def open_run(
    run_dir: str | Path, *, resume: bool = False, force: bool = False, unique: bool = False
) -> Iterator[Path]:
    """Own a run folder for the block (:func:`taskcore.files.owned_folder`) and yield its path:
    made if missing (``unique``: a fresh sibling name if taken), locked, an existing run kept
    for ``resume`` (which needs a resume point) or replaced with ``force`` (only a marked run
    folder, never through a link). If the block fails before the run has a resume point, what
    it wrote is taken back. Re-entrant: a pipeline that owns the folder can call the trainer.
    """
    run_dir = Path(run_dir)
    if resume and force:
        raise RunError("resume and force contradict each other; pick one")
    if resume and not (run_dir / STATE).exists():
        raise RunError(f"nothing to resume in {run_dir}: no {STATE} there")
    with owned_folder(
        run_dir, MARKER, f"synthcmp run folder, format {FORMAT}\n", reuse=resume, force=force,
        unique=unique, keep=lambda path: resume or (path / STATE).exists(), what="run folder",
        error=RunError,
    ) as path:  # fmt: skip
        if resume:
            clear_temp_files(path, (CHECKPOINTS,))
        yield path


def prepare_run_dir(run_dir: Path, task: Task, config: TrainConfig, resume: bool) -> None:
    """Write a fresh run's config and task (or, for ``resume``, check they match this run)."""
    if resume:
        check_resumable(run_dir, task, config)
        atomic_write_json(run_dir / CONFIG, config.to_json())
        return
    try:
        (run_dir / CHECKPOINTS).mkdir(exist_ok=True)
    except OSError as err:
        raise RunError(f"cannot create {run_dir / CHECKPOINTS}: {err.strerror}") from None
    atomic_write_json(run_dir / CONFIG, config.to_json())
    atomic_write_text(run_dir / TASK, json.dumps(task.to_json()))


def check_resumable(run_dir: Path, task: Task, config: TrainConfig) -> None:
    """A resumed run must be the same run: same task table, same config but for its length."""
    stored = read_config(run_dir)
    old, new = stored.to_json(), config.to_json()
    changed = [k for k in new if k not in RESUMABLE_CHANGES and old.get(k) != new[k]]
    if changed:
        what = ", ".join(f"{k} {old.get(k)} → {new[k]}" for k in changed)
        raise RunError(f"cannot resume {run_dir} with different settings ({what})")
    old_task = read_task(run_dir)
    if old_task.n != task.n or not np.array_equal(old_task.table, task.table):
        raise RunError(
            f"cannot resume {run_dir}: it was trained on a different task ({old_task.name}, n = {old_task.n})"
        )
    if (old_task.noise, old_task.noise_seed) != (task.noise, task.noise_seed):
        raise RunError(f"cannot resume {run_dir}: it was trained with --noise {old_task.noise:g} "
                       f"(seed {old_task.noise_seed}), not --noise {task.noise:g} (seed "
                       f"{task.noise_seed}); its training labels would change mid-run")  # fmt: skip


def write_metrics(run_dir: Path, metrics: list[dict]) -> None:
    atomic_write_text(run_dir / METRICS, "".join(json.dumps(row) + "\n" for row in metrics))


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
            if not os.path.lexists(path):
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
        model = load_into(build(self.config, self.task.n, self.run_dir), load_weights(path), path)
        return model.to(torch.float32 if self.config.dtype == "float32" else torch.float64).eval()


def load_run(run_dir: str | Path) -> LoadedRun:
    """Read a run folder written by :func:`neural.train.train`; a damaged one is a RunError."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"run folder {run_dir} does not exist or is not a folder")
    if not os.path.lexists(run_dir / CONFIG):
        raise RunError(f"{run_dir} is not a run folder (no {CONFIG})")
    config, task = read_config(run_dir), read_task(run_dir)
    return LoadedRun(
        run_dir,
        task,
        config,
        read_metrics(run_dir),
        checkpoint_steps(run_dir),
        read_summary(run_dir),
    )
