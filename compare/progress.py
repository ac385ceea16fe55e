"""Progress measures over training, the phases of grokking they reveal, and the description
length of the network over training.

Nanda et al. 2023 showed that grokking is not a sudden event but three phases, visible in
measures that look *inside* the network rather than at its accuracy. With C = log n the
chance loss, the final network's circuit (basis, node, key frequencies) held fixed and
measured at every checkpoint:

1. **memorization** — train loss falls while test and restricted loss stay near chance: the
   network stores its training pairs. It ends at the memorization step (train accuracy
   100%, :mod:`taskcore.events`).
2. **circuit formation** — the key-frequency circuit grows while the test loss stays high:
   the *restricted loss* (the logits reduced to the key directions, :mod:`compare.logits`)
   falls and the *excluded loss* (those directions removed) rises above the train loss — the
   training fit now depends on the circuit. It ends at the first checkpoint where the
   restricted loss is below ``FORMED · C`` (a tenth of chance: the key directions alone
   already put most of the probability on the right answer, on held-out pairs too) and the
   excluded loss is above the train loss.
3. **cleanup** — weight decay removes the memorizing components and the circuit alone is
   left: test loss and restricted loss fall. It ends at the grok step (test accuracy 99%).

The restricted loss restricts only when the key irreps are a small part of the functions of
u: when they span more than half of them (S4's circuit can use every irrep it has), keeping
them keeps almost everything — averaging memorized training pairs over the inputs with the
same u already predicts the held-out ones — so the two later phases are not read at all, and
``note`` says why.

Each phase may be absent, and then its end is ``None``: a run that never fits its training
pairs has no memorization; a run whose final network holds no faithful circuit (a random
lookup table, a run that did not grok) forms no circuit — the restricted loss of directions
that carry nothing never falls — and has no cleanup. Nothing is inferred from a wiggle of
the test loss.

**Description length over training** (:func:`dl_curve`). At every checkpoint the training
labels are coded two ways under the one two-part code of :mod:`synth.mdl`: by the circuit
extracted from *that* checkpoint (its own key frequencies and α, through the final node)
plus its exceptions, or as the literal table; the shorter one is the network's description
length there. The circuit counts only where it is *found* at that checkpoint
(:func:`compare.circuit.circuit_found`: faithful to that network on the inputs and on the
held-out pairs, compact, its key directions alone predicting the task) — a single key
frequency with a positive α already makes the circuit's argmax exact, long before that
component decides what the network answers. For a network that groks this falls from the
table's bits to about the program's bits: the memorizing program replaced by a short one.

The phase ends are ordered by definition: circuit formation is looked for from the end of
memorization on, and cleanup ends no earlier than circuit formation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from compare.circuit import FORMED, Circuit, circuit_found
from compare.embedding import key_share, node_spectrum
from compare.logits import (
    LogitFit,
    Node,
    candidate_bases,
    cross_entropy,
    fit_node,
    key_set,
    key_span,
    restricted_excluded,
)
from compare.readout import circuit_program, fit_readout, fve
from synth.mdl import table_bits
from taskcore import events
from taskcore.serial import JsonMixin
from taskcore.table import Split, Task


@dataclass(frozen=True)
class ProgressPoint(JsonMixin):
    """Every progress measure at one checkpoint (losses in nats, bits in bits)."""

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
    n_key: int  # key frequencies of this checkpoint's own circuit
    faithfulness: float  # of this checkpoint's own circuit to this checkpoint's network
    faithfulness_test: float  # the same on the held-out pairs
    circuit_bits: float  # its two-part code of the training labels (NaN: not faithful)
    table_bits: float  # the literal table's
    bits: float  # the shorter of the two: the network's description length here
    rung: str  # "circuit" | "table": which one that was


@dataclass(frozen=True)
class Phases(JsonMixin):
    """The step at which each phase ends (``None``: the phase did not happen, or — said in
    ``note`` — could not be read from the measures)."""

    memorization: int | None
    circuit_formation: int | None
    cleanup: int | None
    note: str = ""


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
    n = task.n
    fit = fit_node(logits, final_fit.node, task, final_fit.layout)
    key, h = final.key_frequencies, fit.harmonics
    restricted, excluded = restricted_excluded(logits, task, split, fit, key)
    embedding_node = Node(fit.node.basis, final.embedding_node)
    share = node_spectrum(embedding, embedding_node, task)
    own_key = key_set(fit, share)  # the circuit this checkpoint has on its own
    own = circuit_program(logits, task, split, fit, own_key, final.phased,
                          len(candidate_bases(task)))  # fmt: skip
    # a circuit that does not describe this checkpoint's network — on the held-out pairs too —
    # is no code of *its* labels: one positive α already makes argmax_c cos(ω(u − c)) exact
    found = own.faithful and circuit_found(
        True, fit.node.basis.kind, key_span(h, own_key),
        restricted_excluded(logits, task, split, fit, own_key)[0] if own_key != key else restricted,
        math.log(n))  # fmt: skip
    circuit = own.bits if found else float("nan")
    table = table_bits(split.n_train, n)
    pred = logits.argmax(axis=2)
    xs, ys, xt, yt = split.x_train, split.y_train, split.x_test, split.y_test
    return ProgressPoint(
        step=step,
        train_loss=cross_entropy(logits[xs, ys], split.out_train),
        test_loss=cross_entropy(logits[xt, yt], split.out_test),
        train_acc=float((pred[xs, ys] == split.out_train).mean()),
        test_acc=float((pred[xt, yt] == split.out_test).mean()) if split.n_test else float("nan"),
        restricted_loss=restricted,
        excluded_loss=excluded,
        key_share=key_share(embedding, embedding_node, task, key),
        fve=fve(fit, fit_readout(fit, key, final.phased)),
        weight_norm=weight_norm,
        n_key=len(own_key),
        faithfulness=own.faithfulness,
        faithfulness_test=own.faithfulness_test,
        circuit_bits=circuit,
        table_bits=table,
        bits=circuit if circuit < table else table,
        rung="circuit" if circuit < table else "table",
    )


def circuit_formed(point: ProgressPoint, chance: float) -> bool:
    """The key directions alone predict the task, and the training fit depends on them."""
    return point.restricted_loss <= FORMED * chance and point.excluded_loss > point.train_loss


def detect_phases(
    points: list[ProgressPoint], metrics: list[dict], final: Circuit | None
) -> Phases:
    """The ends of memorization, circuit formation and cleanup (see the module docstring).

    ``metrics`` is the trainer's log (denser than the checkpoints) for the two events;
    ``points`` the progress measures; ``final`` the final network's circuit — without a
    faithful one no circuit formed, whatever the curves do. The ends are ordered by
    definition: circuit formation is looked for from the end of memorization on, and cleanup
    ends no earlier than circuit formation.
    """
    rows = metrics or [{"step": p.step, "train_acc": p.train_acc, "test_acc": p.test_acc}
                       for p in points]  # fmt: skip
    memorized, grokked = events.memorization_step(rows), events.grok_step(rows)
    if final is None or not final.found or not points:
        note = "" if grokked is None or not points else (
            f"test accuracy reached {events.GROK_ACC:.0%} at step {grokked}, but no faithful "
            "circuit was read in the final network, so circuit formation and cleanup are not "
            "read")  # fmt: skip
        return Phases(memorized, None, None, note)
    if not final.measures_can_fail:
        return Phases(memorized, None, None, (
            f"circuit formation and cleanup cannot be read here: the key irreps span "
            f"{final.key_span:.0%} of the functions of u, so the restricted loss keeps almost "
            "everything"))  # fmt: skip
    start = memorized if memorized is not None else -1
    formed = next((p.step for p in sorted(points, key=lambda p: p.step)
                   if p.step >= start and circuit_formed(p, final.chance_loss)), None)  # fmt: skip
    if formed is None or grokked is None:
        return Phases(memorized, formed, None)
    # checkpoints are sparser than the log: formation is seen no later than the grok, and
    # neither ends before memorization
    formed = max(min(formed, grokked), start)
    return Phases(memorized, formed, max(grokked, formed))


def dl_curve(points: list[ProgressPoint]) -> list[dict]:
    """The network's description length at each checkpoint: ``{"step", "bits", "rung"}``."""
    return [{"step": p.step, "bits": p.bits, "rung": p.rung} for p in points]


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
        points.append(measure(step, seen.logits, seen.embedding, weight_norm(model), run.task,
                              run.split, final, final_fit))  # fmt: skip
        if on_step:
            on_step(i + 1, len(steps))
    return points
