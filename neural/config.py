"""Training configurations: the defaults chosen by measurement, and Nanda et al.'s recipe.

A :class:`TrainConfig` is everything that decides a run's numbers: the network, the
optimiser, the split and the seed. Two runs with equal configs on the same task give the
same metrics on the same machine (full-batch training has no randomness beyond the
initialisation, which is seeded). It is stored as ``config.json`` in the run folder.

What the defaults are for: on the papers' 30% split of mod-97 addition, the network should
*show* grokking — memorize its training pairs first, with test accuracy near chance, and
generalize only much later — and do it in seconds on a laptop CPU. Nanda et al.'s recipe
(d_model 128, d_mlp 512, lr 1e-3, weight decay 1) shows the plateau but takes ~10⁴ steps,
minutes of CPU. The defaults keep what makes its memorization clean and change what makes
it slow:

* **a wide residual stream, a narrow MLP** (d_model 128, d_mlp 128): with 128-dimensional
  random embeddings the training pairs are easy to tell apart, so the network fits them by
  rote before any Fourier structure forms; at d_model 64 it learns the two together and is
  already partly right on held-out pairs when it has memorized. The MLP's width costs time
  per step and buys nothing for memorization;
* **weight decay that ramps up** (``decay_warmup``): none at first, so memorization is fast
  and clean, then strong (lr · weight decay = 0.04 per step), so the push to the low-norm,
  general solution (Omnigrok: grokking time ∝ 1 / (lr · weight decay)) takes a few hundred
  steps rather than ten thousand;
* **a slightly larger initialization** (``init_scale`` 1.25): starting at a larger weight
  norm keeps the network in the memorizing regime a little longer (Liu et al. 2022);
* **smaller steps once it has grokked** (``lr_after_grok`` 0.3): at this learning rate and
  decay some runs fall out of the solution again a few dozen steps after grokking.

``benchmarks/grok.py`` measures the result over seeds 0–9 (memorization step, test accuracy
then, grok step, their ratio, seconds) and per p; ``docs/defaults.md`` records the search
that chose these numbers, including what did not work. One thread and flushing denormals:
see :func:`neural.loop.cpu_settings`.

**Other sizes.** Fewer symbols mean fewer pairs: at p = 31, 30% is 288 pairs and grokking
becomes slow and seed-dependent, so the default training fraction grows as p shrinks
(:func:`taskcore.table.default_train_frac`). The step budget is generous (grokking at p = 97
takes a few hundred steps; the budget is 3,000) and a run stops 300 steps after grokking.
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
    * ``decay_warmup`` — weight decay ramps linearly from 0 to ``weight_decay`` over this
      many steps (0: full from the start). Why: a network memorizes fastest with little
      decay and groks fastest with much; ramping the decay lets it first fit its training
      pairs cleanly (test accuracy near chance) and then be pushed hard towards the
      low-norm, general solution — the two phases of grokking, in seconds.
    * ``lr_after_grok`` — the learning rate is multiplied by this once the run has grokked.
      Why: with a large learning rate and strong decay the generalizing network can fall
      out of its solution again a few dozen steps later (test accuracy dips to 30–60%,
      Adam's "slingshot"); smaller steps after grokking keep it, and cleanup goes on.
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
    decay_warmup: int = 0
    lr_after_grok: float = 1.0
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
            (self.decay_warmup >= 0, f"decay_warmup must be ≥ 0, got {self.decay_warmup}"),
            (0 < self.lr_after_grok <= 1, f"lr_after_grok must be in (0, 1], got {self.lr_after_grok}"),
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


# Defaults by measurement (benchmarks/grok.py measures them; docs/defaults.md the search).
DEFAULTS: dict[str, TrainConfig] = {
    "transformer": TrainConfig(
        model=ModelConfig(kind="transformer", d_model=128, n_heads=4, d_mlp=128, init_scale=1.25),
        lr=1e-2,
        weight_decay=4.0,
        decay_warmup=100,
        lr_after_grok=0.3,
        train_frac=DEFAULT_TRAIN_FRAC,
        stop_after_grok=300,
        steps=3000,
    ),
    "mlp": TrainConfig(
        model=ModelConfig(kind="mlp", d_model=32, d_mlp=128, act="quadratic", combine="concat"),
        lr=1e-2,
        weight_decay=1.0,
        train_frac=DEFAULT_TRAIN_FRAC,
        stop_after_grok=300,
        steps=3000,
    ),
}

# Zhong et al.'s attention rate 0: the transformer's defaults, but weaker decay, with which it
# groks at 30% (docs/defaults.md)
DEFAULTS["constant-attention"] = DEFAULTS["transformer"].replace(attention="constant",
                                                                 weight_decay=1.0)

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


def default_model(task) -> str:
    """The network a task trains by default: the transformer, but for group tasks the MLP of
    Chughtai et al. 2023 (learned embeddings of x and y, concatenated, one hidden layer) —
    it memorizes S5's 4,320 training pairs in under 100 steps and generalizes within a
    minute, where the transformer's attention over permutation indices is still at chance
    after five (docs/defaults.md)."""
    return "mlp" if task.family == "group" else "transformer"


def default_config(model: str = "transformer", **changes) -> TrainConfig:
    """The measured defaults for ``model`` (a name of :data:`DEFAULTS`), with ``changes`` applied
    (``default_config(steps=300, d_model=32, seed=1)``)."""
    if model not in DEFAULTS:
        raise TaskError(f"model must be one of {tuple(DEFAULTS)}, got {model!r}")
    return DEFAULTS[model].replace(**changes)
