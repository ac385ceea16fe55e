"""Gradient descent's side of the comparison: the networks, the trainer and the run store.

``neural`` imports the task core (:mod:`taskcore`) and torch, never the shell: the shell
renders what these functions return.

* :mod:`neural.models` — the transformer and the MLP, each with ``run_with_cache``;
* :mod:`neural.config` — :class:`TrainConfig`, the measured defaults, Nanda et al.'s recipe;
* :mod:`neural.train` — :func:`train` (one run, resumable) and ``train_batched`` (many seeds
  as one stacked model), both through the one loop of :mod:`neural.loop`, which detects
  memorization and grokking, over the weights of :mod:`neural.weights`;
* :mod:`neural.seeds` — where and how to train many seeds (batched on a GPU, a process per
  core on the CPU);
* :mod:`neural.store` — the run folder: atomic writes, checkpoints, :func:`load_run`.
"""

from neural.config import DEFAULTS, REFERENCE, TrainConfig, default_config
from neural.models import MLP, ModelConfig, Transformer, build_model
from neural.store import LoadedRun, RunError, load_run
from neural.train import Run, StepInfo, TrainingDiverged, TrainingInterrupted, train

__all__ = [
    "DEFAULTS", "MLP", "REFERENCE", "LoadedRun", "ModelConfig", "Run", "RunError", "StepInfo",
    "TrainConfig", "TrainingDiverged", "TrainingInterrupted", "Transformer", "build_model",
    "default_config", "load_run", "train",
]  # fmt: skip
