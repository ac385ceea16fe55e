"""λ̂ over training: the local learning coefficient at a run's checkpoints, beside the bits.

The project measures a network's complexity twice. In *bits* (:mod:`compare.progress`): the
training labels' description length under the circuit the checkpoint holds, falling from the
table's bits to the program's at the grok. And from the *weights alone*, by singular learning
theory's local learning coefficient λ̂ (:mod:`neural.llc`): how fast the volume of nearly-as-
good weights around the checkpoint shrinks. A network that memorized a table needs many
directions of its weights to hold every pair; one that found a short program needs few, so
λ̂ should fall when the circuit replaces the memory — and stay high on random labels, where
there is nothing shorter to find. Both curves are measured on the same checkpoints, and each
can fail to do what the story says.

An estimate costs a few hundred forward and backward passes over the training set, so it is
made on a subset of the checkpoints (:func:`llc_steps`): the last, the ones the phases table
shows (the start, the end of each phase) and as many more as ``count`` allows, spread evenly
in log(step) — where training changes most.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields

from neural.llc import LLCConfig, LLCEstimate, training_llc

CHECKPOINTS = 16  # the default number of checkpoints estimated (benchmarks/llc.py: ≤ 2 min at p = 97)


@dataclass(frozen=True)
class LLCPoint(LLCEstimate):
    """λ̂ at one checkpoint: the estimate and its diagnostics, and the step."""

    step: int = 0


def llc_steps(steps: list[int], marks: list[int], count: int) -> list[int]:
    """``count`` of the checkpoint ``steps`` (all of them if there are fewer): the last one
    (λ̂ at the end is what a sweep records), every one of ``marks`` that is a checkpoint,
    then the farthest from those already chosen in log(step + 1), one at a time — an even
    spread over the log-scaled axis the plots use."""
    steps = sorted(set(steps))
    if len(steps) <= count:
        return steps
    chosen = [s for s in dict.fromkeys([steps[-1], *marks]) if s in steps][:count]

    def gap(s: int) -> float:
        return min(abs(math.log1p(s) - math.log1p(c)) for c in chosen)

    while len(chosen) < count:
        chosen.append(max((s for s in steps if s not in chosen), key=gap))
    return sorted(chosen)


def llc_over_training(
    run,
    steps: list[int],
    config: LLCConfig,
    on_step: Callable[[int, int], None] | None = None,
) -> list[LLCPoint]:
    """λ̂ at each of ``steps`` of a :class:`neural.store.LoadedRun`, on its training split.
    ``on_step(done, total)`` is called after each checkpoint."""
    points = []
    for i, step in enumerate(steps):
        estimate = training_llc(run.load_model(step), run.split, run.task.n, config)
        points.append(LLCPoint(**{f.name: getattr(estimate, f.name) for f in fields(estimate)},
                               step=step))  # fmt: skip
        if on_step:
            on_step(i + 1, len(steps))
    return points
