"""The named events and thresholds, each defined once.

The trainer, compare, the report, the plots and the JSON all say "memorized", "grokked",
"faithful" and "implements"; each word has exactly one definition, here:

* **memorized** — every training pair is fitted: train accuracy = 1 (on the labels the
  network was given, noisy ones included). The memorization step is the first logged step
  where that holds.
* **grokked** — the rule is found: test accuracy ≥ :data:`GROK_ACC` on the held-out pairs
  (whose labels are always clean). The grok step is the first logged step where that holds.
* **faithful** — a circuit describes the network when its argmax agrees with the network's
  on at least :data:`FAITHFUL` of the valid inputs.
* **implements** — the network implements a program it agrees with on at least
  :data:`IMPLEMENTS` of the valid inputs *and* of the held-out pairs (with 90% of the pairs
  in training, agreeing on 99% of all inputs says little about the other 10%); it
  implements it **partly** when the program is
  right on at least :data:`PARTIAL` of the held-out pairs (the agreement is then reported as
  a share, "implements x − y on 98.4% of inputs", never rounded up to a verdict).

Events are read off metric rows (dicts with ``step``, ``train_acc``, ``test_acc``), so the
trainer's log, the checkpoints and a stored report all give the same step.

**Generalizes**, once per learner: the network generalizes when it grokked (test accuracy
≥ :data:`GROK_ACC`, :func:`network_generalizes`); a program when it is right on every
held-out pair (:func:`program_generalizes`) — a program is exact or it is not.

The rest of the project's vocabulary is here too, so that the engines, the report, the
glossary and the JSON use one word (and one number) for one idea, and the shell can read
them without importing torch: the grades of a match (:class:`Grade`), the kinds of basis a
circuit is read in (:class:`BasisKind`), and the thresholds of the circuit measures
(documented where they are used, in :mod:`compare`).
"""

from __future__ import annotations

from collections.abc import Iterable

MEMORIZED_ACC = 1.0
GROK_ACC = 0.99
FAITHFUL = 0.9
IMPLEMENTS = 0.99
PARTIAL = 0.5

# the circuit measures' thresholds (compare.logits, .spectra, .circuit, .match, .clockpizza,
# .similarity say what each means)
KEY_SHARE = 0.02  # an irrep is key when its directions along u hold ≥ 2% of ‖L̃‖²
EMBED_KEY_FACTOR = 4.0  # an embedding irrep is key at ≥ 4× its uniform share
EMBED_MASS = 0.9  # "how many frequencies carry 90% of the embedding"
FORMED = 0.1  # the key directions alone predict the task: restricted loss ≤ a tenth of log n
COMPACT = 0.5  # key irreps spanning more of the functions of u than this restrict nothing
MARGIN = 0.2  # a score separates f from a near miss when it is this much higher for f
DI_CLOCK = 0.5  # distance irrelevance above this: the logits ignore |a − b| (Clock)
GS_PIZZA = 0.9  # gradient symmetricity above this (with low DI): Pizza
K_NEIGHBOURS = 10  # mutual k-NN alignment's k
RISING = 0.02  # test accuracy that gained this much over the last quarter is still rising
LLC_STABLE = 0.2  # λ̂ over half the draws and over all may differ by this share, no more …
LLC_RESOLVED = 0.1  # … unless they differ by less than this: below it, λ̂ is "about 0" either way


class Grade:
    """The grades of a match (:func:`compare.match.verdict`), as the JSON writes them."""

    IMPLEMENTS = "implements"  # agrees on ≥ IMPLEMENTS of the inputs and of the held-out pairs
    PARTIAL = "partial"  # right on ≥ PARTIAL of the held-out pairs
    OTHER = "other"  # generalizes, but matches no candidate
    MEMORIZATION = "memorization"
    MATCHED = (IMPLEMENTS, PARTIAL)  # the grades that name a program the network computes


class BasisKind:
    """How symbols are laid out before harmonic analysis (:class:`compare.basis.Basis`)."""

    ADDITIVE = "additive"  # residues on Z_n
    DLOG = "dlog"  # nonzero residues by their discrete logs, on Z_(p−1)
    IRREPS = "irreps"  # a group's elements, analysed by its irreducible representations


def network_generalizes(test_acc: float | None) -> bool:
    """The network has found the rule: it grokked."""
    return test_acc is not None and test_acc >= GROK_ACC


def program_generalizes(test_acc: float | None) -> bool:
    """A program generalizes when it is right on every held-out pair."""
    return test_acc is not None and test_acc == 1.0


def memorized(row: dict) -> bool:
    return row.get("train_acc") is not None and row["train_acc"] >= MEMORIZED_ACC


def grokked(row: dict) -> bool:
    return network_generalizes(row.get("test_acc"))


def first_step(rows: Iterable[dict], event) -> int | None:
    """The step of the first row (in step order) where ``event(row)`` holds, else None."""
    return next((int(r["step"]) for r in sorted(rows, key=lambda r: r["step"]) if event(r)), None)


def memorization_step(rows: Iterable[dict]) -> int | None:
    return first_step(rows, memorized)


def grok_step(rows: Iterable[dict]) -> int | None:
    return first_step(rows, grokked)


PHASES = ("memorization", "circuit_formation", "cleanup")  # in the order they end


def still_rising(rows: list[dict]) -> bool:
    """Is the test accuracy still climbing when the run stopped? The mean over the last
    twentieth of the logged rows against the mean over a twentieth around three quarters of
    the way, at least :data:`RISING` higher. A run that grokked is not rising (it arrived);
    one whose test accuracy stays flat at the end of a long budget is unlikely to grok soon,
    one still rising may only have run out of steps."""
    if any(grokked(r) for r in rows):
        return False
    scored = [r["test_acc"] for r in rows if r.get("test_acc") is not None]
    if len(scored) < 20:
        return False
    width = len(scored) // 20
    at = 3 * len(scored) // 4
    end = sum(scored[-width:]) / width
    before = sum(scored[at - width // 2: at - width // 2 + width]) / width
    return end - before >= RISING


def phase_columns(steps: list[int], phases: dict) -> list[tuple[int, str]]:
    """The checkpoints a phases table shows, with their labels: the first, the one nearest
    each phase's end (phases that end near the same checkpoint share its column, labelled
    "… ends"), the last. ``phases`` as in :class:`compare.progress.Phases`' JSON."""
    if not steps:
        return []
    steps = sorted(steps)
    marks = [(steps[0], "start")]
    marks += [(phases[name], name.replace("_", " ")) for name in PHASES
              if phases.get(name) is not None]  # fmt: skip
    chosen: list[tuple[int, list[str]]] = []
    for step, label in sorted(marks, key=lambda m: m[0]):
        near = min(steps, key=lambda s, t=step: abs(s - t))
        same = next((labels for c, labels in chosen if c == near), None)
        if same is None:
            chosen.append((near, [label]))
        elif label not in same and "start" not in same:
            same.append(label)
    if all(steps[-1] != c for c, _ in chosen):
        chosen.append((steps[-1], ["final"]))
    return [(c, labels[0] if labels in (["start"], ["final"]) else "\n".join([*labels, "ends"]))
            for c, labels in chosen]  # fmt: skip
