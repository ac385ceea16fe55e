"""Progress measures over training, and the three phases of grokking they reveal.

Nanda et al. 2023 showed that grokking is not a sudden event but three phases, visible
in measures that look *inside* the network rather than at its accuracy:

1. **memorization** — train loss falls, test loss does not: the network stores its
   training pairs. It ends when training accuracy reaches 99%.
2. **circuit formation** — test loss stays high, but the Fourier circuit grows: the
   restricted loss (logits reduced to the key-frequency directions, see
   :mod:`compare.circuit`) falls, the excluded loss (those directions removed) rises on the
   training pairs, the key frequencies' share of the embedding grows. We end it where the
   test loss has come half-way down from its highest value after memorization to its
   final value, ``L_test ≤ (max + final) / 2``: the circuit now outweighs the memorized
   table on held-out pairs. (On a log scale the half-way point would sit near the end of
   the drop, because the final loss is tiny.)
3. **cleanup** — weight decay removes the memorizing components and the circuit alone is
   left: test loss drops and the weight norm falls. We end it at the first step with test
   accuracy ≥ 99% (the grok step).

Each boundary is the step where its phase *ends*; ``None`` when it never did (a run that
did not grok has no cleanup). The circuit's basis, form and key frequencies are those of
the final network, held fixed, so every checkpoint is measured against the same circuit;
its description length at a checkpoint uses that checkpoint's own key frequencies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from compare.circuit import Circuit, circuit_bits, circuit_program
from compare.logits import (
    LogitFit,
    alpha,
    candidate_bases,
    cross_entropy,
    fit_form,
    fve,
    key_frequencies,
    restricted_excluded,
)
from compare.spectra import embedding_share
from taskcore import events
from taskcore.serial import JsonMixin
from taskcore.table import Split, Task


@dataclass(frozen=True)
class ProgressPoint(JsonMixin):
    """Every progress measure at one checkpoint (losses in nats)."""

    step: int
    train_loss: float
    test_loss: float
    train_acc: float
    test_acc: float
    restricted_loss: float
    excluded_loss: float
    key_share: float  # the final key frequencies' share of the embedding's energy
    fve: float  # the final circuit's logit model, refitted at this checkpoint
    weight_norm: float
    bits: float  # the circuit extracted at this checkpoint
    n_key: int  # its number of key frequencies
    faithfulness: float


@dataclass(frozen=True)
class Phases(JsonMixin):
    """The step at which each phase ends (``None``: it did not)."""

    memorization: int | None
    circuit_formation: int | None
    cleanup: int | None


def measure(
    step: int,
    logits: np.ndarray,
    embedding: np.ndarray,
    weight_norm: float,
    task: Task,
    split: Split,
    final: Circuit,
    final_fit: LogitFit,
) -> ProgressPoint:
    """The progress measures of one checkpoint, given its logits on all inputs (n, n, n)."""
    train, test = split.masks(task.n)
    labels = task.table
    fit = fit_form(logits, final_fit.form)
    key = final.key_frequencies
    restricted, excluded = restricted_excluded(logits, task, train, fit, key)
    share = embedding_share(embedding, final_fit.form.basis)
    own_key = key_frequencies(fit)  # the circuit this checkpoint has on its own
    zero_class, q, faithful = circuit_program(logits, task, fit, own_key, alpha(fit, own_key))
    basis = fit.form.basis
    bits = circuit_bits(
        len(candidate_bases(task)), basis.m, len(own_key), q, zero_class is not None, task.n
    )
    pred = logits.argmax(axis=2)
    return ProgressPoint(
        step=step,
        train_loss=cross_entropy(logits[train], labels[train]),
        test_loss=cross_entropy(logits[test], labels[test]),
        train_acc=float((pred == labels)[train].mean()),
        test_acc=float((pred == labels)[test].mean()) if test.any() else float("nan"),
        restricted_loss=restricted,
        excluded_loss=excluded,
        key_share=float(share[key].sum()) if key else 0.0,
        fve=fve(fit, alpha(fit, key), key),
        weight_norm=weight_norm,
        bits=bits,
        n_key=len(own_key),
        faithfulness=faithful,
    )


def first_step(steps: list[int], flags: list[bool]) -> int | None:
    return next((s for s, f in zip(steps, flags, strict=True) if f), None)


def detect_phases(points: list[ProgressPoint], metrics: list[dict] | None = None) -> Phases:
    """The ends of memorization, circuit formation and cleanup (see the module docstring).

    Accuracies come from ``metrics`` (the trainer's log, denser than the checkpoints) when
    given, else from the points; the test-loss criterion uses whichever is denser.
    """
    rows = [
        r
        for r in (metrics or [])
        if r.get("train_acc") is not None and r.get("test_loss") is not None
    ]
    if len(rows) < len(points):
        rows = [asdict(p) for p in points]
    rows = sorted(rows, key=lambda r: r["step"])
    if not rows:
        return Phases(None, None, None)
    memorized = events.memorization_step(rows)
    grokked = events.grok_step(rows)
    formed = None
    if memorized is not None:
        after = [r for r in rows if r["step"] >= memorized and np.isfinite(r["test_loss"])]
        if after:
            peak = max(r["test_loss"] for r in after)
            final = after[-1]["test_loss"]
            if final < peak:
                half = (peak + final) / 2
                peak_step = max(after, key=lambda r: r["test_loss"])["step"]
                formed = first_step(
                    [r["step"] for r in after],
                    [r["step"] >= peak_step and r["test_loss"] <= half for r in after],
                )
    if grokked is not None and formed is not None and formed > grokked:
        formed = grokked
    return Phases(memorized, formed, grokked)


def progress_measures(
    run,
    final: Circuit,
    final_fit: LogitFit,
    on_step: Callable[[int, int], None] | None = None,
    steps: list[int] | None = None,
) -> list[ProgressPoint]:
    """Measure every checkpoint of a :class:`neural.store.LoadedRun` (or ``steps`` of them).

    ``on_step(done, total)`` is called after each checkpoint.
    """
    from compare.network import probe, weight_norm

    steps = run.checkpoint_steps if steps is None else steps
    points = []
    for i, step in enumerate(steps):
        model = run.load_model(step)
        seen = probe(model, run.task.n, with_cache=False)
        points.append(
            measure(
                step,
                seen.logits,
                seen.embedding,
                weight_norm(model),
                run.task,
                run.split,
                final,
                final_fit,
            )
        )
        if on_step:
            on_step(i + 1, len(steps))
    return points
