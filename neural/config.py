"""Training configurations: the defaults chosen by measurement, and Nanda et al.'s recipe.

A :class:`TrainConfig` is everything that decides a run's numbers: the network, the
optimiser, the split and the seed. Two runs with equal configs on the same task give the
same metrics on the same machine (full-batch training has no randomness beyond the
initialisation, which is seeded). It is stored as ``config.json`` in the run folder.

Why the defaults differ from the paper's: Nanda et al. (d_model 128, 4 heads, d_mlp 512,
lr 1e-3, weight decay 1, 30% of the pairs for training) grok mod 97 after ~10⁴ steps —
many minutes on a laptop CPU. Grokking comes sooner with more training data, a larger
learning rate (AdamW's decay per step is ``lr · weight_decay``, so the push towards the
low-norm, general solution is stronger) and a smaller network (each step is cheaper).

The measurements behind the defaults (modadd, p = 97, full batch, weight decay 1, one CPU
thread; steps until test accuracy ≥ 99%, seeds 0, 1, 2, … in order; "–" = not by 2000):

=====================================  ========================================  =========
transformer d_model/d_mlp, train, lr   grok step per seed                        ms / step
=====================================  ========================================  =========
32/128, 30%, 1e-2                      730 1460 580                              ~12
32/128, 30%, 1e-2, Grokfast λ 2        – 1390 1620
32/128, 40%, 1e-2                      160 130 180 440 130 230 140 290           ~15
32/128, 40%, 5e-3                      290 190 210
**32/128, 40%, 3e-3 (default)**        490 250 250 1120 470 570 500 690          ~15
32/128, 40%, 3e-3, Grokfast λ 2        1100 1230 580 830
32/128, 40%, 1e-2, Grokfast λ 2        390 430 340
32/128, 50%, 1e-2                      140 120 390
64/256, 30%, 1e-2                      850 770 700                               ~28
64/256, 40%, 1e-2                      190 200 180 150 140 320 210 450           ~28
64/256, 40%, 3e-3                      880 730 550 330
=====================================  ========================================  =========

lr 1e-2 groks fastest but is unstable afterwards: test accuracy spikes down (seed 1 falls
to 64% thirty steps after grokking and ends at 98%; at 5e-3 to 89%), a bad final model to
take apart. At 3e-3 it stays ≥ 99% after grokking for all eight seeds. Grokfast (EMA
α 0.98) slowed grokking at every setting tried, so it is off (``grokfast_lambda``).
40% rather than the paper's 30% (``DEFAULT_TRAIN_FRAC``): at 30% grokking takes 2–6× the
steps and varies more between seeds. One thread and flushing denormals: see
:func:`neural.train.cpu_settings`.

The MLP (Gromov's quadratic activation, concatenated learned embeddings, d 32, d_mlp 128,
lr 1e-2) groks at 390 380 440 460 360 350 steps, ~5 ms each; with ReLU at 920 610 880; at
lr 3e-3 at 1040 930 1160. ``benchmarks/grok.py`` times the defaults against the paper.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from neural.models import ModelConfig
from taskcore.errors import TaskError
from taskcore.serial import JsonMixin
from taskcore.table import DEFAULT_TRAIN_FRAC

#: Fields a resumed run may change: its length, its checkpoint density and where it runs.
#: Not ``threads``: a different thread count sums in a different order, so the numbers
#: drift (on the CPU 1 and 2 threads give train losses 1.2035 and 1.2242 after 150 steps);
#: a different ``device`` does too, a price worth being able to move a run to a GPU.
RESUMABLE_CHANGES = ("steps", "stop_after_grok", "device", "checkpoints")


@dataclass(frozen=True)
class TrainConfig(JsonMixin):
    """A training run's settings.

    * ``steps`` — the most optimiser steps; ``stop_after_grok`` ends the run that many steps
      after the grok step (``None``: always run ``steps``).
    * ``batch_size`` — ``None`` for full-batch training (the default, as in the papers).
    * ``warmup`` — linear learning-rate warmup over this many steps.
    * ``grokfast_lambda`` — strength λ of the Grokfast EMA gradient filter (0 = off) with
      EMA decay ``grokfast_alpha``.
    * ``log_every`` — a metrics row (train *and* test loss/accuracy, weight norm) every this
      many steps; the grok step is found on this grid. Train loss is checked every step.
    * ``checkpoints`` — about how many weight snapshots to keep (log-spaced + uniform).
    * ``threads`` — torch CPU threads during training (``None``: leave torch's setting).
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    steps: int = 5000
    lr: float = 1e-3
    weight_decay: float = 1.0
    betas: tuple[float, float] = (0.9, 0.98)
    warmup: int = 10
    train_frac: float = 0.3
    seed: int = 0
    batch_size: int | None = None
    grokfast_alpha: float = 0.98
    grokfast_lambda: float = 0.0
    stop_after_grok: int | None = None
    log_every: int = 10
    checkpoints: int = 80
    device: str = "cpu"
    dtype: str = "float32"  # "float32" | "float64"
    threads: int | None = 1

    def __post_init__(self) -> None:
        checks = [
            (self.steps >= 0, f"steps must be ≥ 0, got {self.steps}"),
            (self.lr > 0, f"learning rate must be > 0, got {self.lr}"),
            (self.weight_decay >= 0, f"weight decay must be ≥ 0, got {self.weight_decay}"),
            (0 < self.train_frac < 1, f"train fraction must be in (0, 1), got {self.train_frac}"),
            (self.log_every >= 1, f"log_every must be ≥ 1, got {self.log_every}"),
            (self.checkpoints >= 2, f"checkpoints must be ≥ 2, got {self.checkpoints}"),
            (self.dtype in ("float32", "float64"), f"dtype must be float32|float64: {self.dtype}"),
            (self.batch_size is None or self.batch_size >= 1, "batch_size must be ≥ 1"),
            (self.warmup >= 0, f"warmup must be ≥ 0, got {self.warmup}"),
            (0 <= self.grokfast_alpha < 1, "grokfast_alpha must be in [0, 1)"),
        ]
        for ok, message in checks:
            if not ok:
                raise TaskError(message)
        object.__setattr__(self, "betas", tuple(self.betas))

    def replace(self, **changes) -> TrainConfig:
        """A copy with some fields changed; model fields (``d_model=64``) go to the model."""
        model_fields = {
            k: changes.pop(k) for k in list(changes) if k in ModelConfig.__dataclass_fields__
        }
        model = replace(changes.pop("model", self.model), **model_fields)
        return replace(self, model=model, **changes)


# Defaults by measurement (benchmarks/grok.py; numbers in the module docstring).
DEFAULTS: dict[str, TrainConfig] = {
    "transformer": TrainConfig(
        model=ModelConfig(kind="transformer", d_model=32, n_heads=4, d_mlp=128),
        lr=3e-3,
        weight_decay=1.0,
        train_frac=DEFAULT_TRAIN_FRAC,
        grokfast_lambda=0.0,
        stop_after_grok=300,
        steps=3000,
    ),
    "mlp": TrainConfig(
        model=ModelConfig(kind="mlp", d_model=32, d_mlp=128, act="quadratic", combine="concat"),
        lr=1e-2,
        weight_decay=1.0,
        train_frac=DEFAULT_TRAIN_FRAC,
        grokfast_lambda=0.0,
        stop_after_grok=300,
        steps=3000,
    ),
}

#: Nanda et al. 2023's recipe for mod-97 addition: the reference the benchmark compares to.
REFERENCE = TrainConfig(
    model=ModelConfig(kind="transformer", d_model=128, n_heads=4, d_mlp=512),
    lr=1e-3,
    weight_decay=1.0,
    betas=(0.9, 0.98),
    warmup=10,
    train_frac=0.3,
    steps=40_000,
)


def default_config(model: str = "transformer", **changes) -> TrainConfig:
    """The measured defaults for ``model`` ("transformer" | "mlp"), with ``changes`` applied
    (``default_config(steps=300, d_model=32, seed=1)``)."""
    if model not in DEFAULTS:
        raise TaskError(f"model must be one of {tuple(DEFAULTS)}, got {model!r}")
    return DEFAULTS[model].replace(**changes)
