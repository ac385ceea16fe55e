"""The trainer's schedules, shared by the single and the batched trainer: the learning rate
and weight decay at each step, when a run is done, and where it checkpoints.

Each is a pure function of the config, the step and the grok step (if any), so a resumed
run takes the same steps as one that never stopped, and N seeds trained as one batch take
each the steps its own single run would.
"""

from __future__ import annotations

from neural import store
from neural.config import TrainConfig


def ramp(step: int, length: int) -> float:
    """A linear warmup factor: (step + 1) / length, at most 1 (1 at once when length is 0)."""
    return min(1.0, (step + 1) / length) if length else 1.0


def lr_and_decay(config: TrainConfig, step: int, grok_step: int | None) -> tuple[float, float]:
    """The learning rate and weight decay at ``step``: warmups as pure functions of the step
    (so a resumed run takes the same steps), the rate times ``lr_after_grok`` once grokked."""
    annealed = config.lr_after_grok if grok_step is not None and step > grok_step else 1.0
    return (config.lr * ramp(step, config.warmup) * annealed,
            config.weight_decay * ramp(step, config.decay_warmup))  # fmt: skip


def finished(config: TrainConfig, step: int, grok_step: int | None) -> bool:
    """The step budget is spent, or ``stop_after_grok`` steps have passed since grokking."""
    if step >= config.steps:
        return True
    after = config.stop_after_grok
    return grok_step is not None and after is not None and step >= grok_step + after


def checkpoint_steps(config: TrainConfig, grok_step: int | None) -> set[int]:
    """The steps to checkpoint at (denser over the cleanup once the grok step is known)."""
    return set(store.checkpoint_schedule(config.steps, config.checkpoints, grok_step,
                                         config.stop_after_grok))  # fmt: skip
