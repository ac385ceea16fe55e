"""Matching: which program does the network implement — and what is evidence of *how*?

Each candidate program f is scored on every valid input of the task; every score is
oriented so that higher means closer to the network:

* ``behaviour`` — the share of inputs where the network's argmax equals f(x, y); also
  ``behaviour_train`` and ``behaviour_test`` on the two halves of the split. This decides the
  verdict (graded, below).
* ``logit_correlation`` — how much of the network's logit *shape* points at f: the
  correlation of the class-centered logits ``L̃[x, y, c]`` with the program's centered
  indicator ``Ĩ_f[x, y, c] = 1[f(x, y) = c] − mean``, relative to the same correlation for the
  network's own argmax (1 for a program that is the network's function). Unlike the energy
  of |FFT|² in a program's support it keeps phase: for logits ∝ Σ α_k cos(ω_k(u − c)) the
  shifted program u + 1 scores Σ α_k cos ω_k / Σ α_k, not 1. (A correlation is the same in
  every orthonormal basis, the Fourier basis included, so it is computed directly.)
* ``intervention`` — interchange intervention accuracy (:mod:`compare.intervene`): the mean,
  over the program's internal nodes that depend on *both* inputs, of the best layer's IIA.
  (A node of one input, like ``-y`` or ``x**2``, is read off that input's embedding by any
  network; it says nothing about the algorithm.)

**Evidence must be able to fail.** Every program that is matched gets *near misses*
(controls): ``f + 1``, ``2·f`` and ``inv(f)`` mod n (for x + y: x + y + 1, 2x + 2y and
inv(x + y)); in a group ``inv(f)``, ``f·f`` and f with x and y swapped (x·y against y·x). A score counts as evidence for f only if f beats each control on it by at least
:data:`MARGIN`; the report prints the scores either way but says which separate.

**The verdict is graded** (thresholds in :mod:`taskcore.events`): the network *implements* f
when they agree on ≥ 99% of inputs and of the held-out pairs; it implements f *partly* ("on
98.4% of inputs, not fully grokked") when f is right on at least half of the held-out pairs; below that the honest
answer is "memorization — no compact circuit", with the numbers that show it — and when the
network generalizes but matches no candidate, it says that instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from taskcore.events import IMPLEMENTS, MARGIN, PARTIAL, Grade
from taskcore.serial import JsonMixin

MEMORIZATION = "memorization — no compact circuit"
SCORES = ("behaviour", "behaviour_train", "behaviour_test", "logit_correlation", "intervention")
EVIDENCE = ("logit_correlation", "intervention")  # the scores about *how*


@dataclass(frozen=True)
class NodeMatch(JsonMixin):
    """Interchange intervention accuracy of one internal node, per layer."""

    node: str
    intervention: dict[str, float]  # layer name → IIA (NaN: not testable)
    best_layer: str = ""
    best: float = float("nan")

    @classmethod
    def of(cls, node: str, iia: dict[str, float]) -> NodeMatch:
        finite = {k: v for k, v in iia.items() if math.isfinite(v)}
        best = max(finite, key=finite.get) if finite else ""
        return cls(node, iia, best, finite[best] if finite else float("nan"))


@dataclass(frozen=True)
class ProgramMatch(JsonMixin):
    """One candidate program held against the network.

    ``kind``: "program" (from the synthesizer), "user" (``--program``), "control" (a near
    miss of the matched program) or "table" (the memorized training pairs). ``scores`` maps
    each name of :data:`SCORES` to a value in [0, 1] (or NaN where it does not apply),
    higher = closer to the network.
    """

    rank: int
    program: str
    kind: str
    bits: float | None
    scores: dict[str, float]
    nodes: list[NodeMatch] = field(default_factory=list)

    def score(self, name: str) -> float:
        value = self.scores.get(name)
        return float("nan") if value is None else float(value)


@dataclass(frozen=True)
class Match(JsonMixin):
    """The answer: which program the network implements, how fully, and what supports it.

    ``grade`` is "implements", "partial", "other" (it generalizes but matches no candidate)
    or "memorization". ``evidence`` says, for each score about *how*, whether it separates
    the program from all its near misses (``controls``); None where it was not measured.
    """

    program: str
    grade: str
    verdict: str
    behaviour: float
    behaviour_test: float
    implements: bool
    evidence: dict[str, bool | None] = field(default_factory=dict)
    controls: list[str] = field(default_factory=list)


class LogitView:
    """The class-centered logits on the valid inputs, for :meth:`correlation`."""

    def __init__(self, logits: np.ndarray, domain: np.ndarray):
        L = np.asarray(logits, dtype=np.float64)[domain]  # (N, n)
        self.centered = L - L.mean(axis=0)
        self.norm = float(np.linalg.norm(self.centered))
        self.reference = self.raw(L.argmax(axis=1))

    def raw(self, f: np.ndarray) -> float:
        """corr(L̃, Ĩ_f) for f (N,) on the valid inputs. ⟨L̃, Ĩ_f⟩ = Σ L̃[i, f(i)] because L̃
        has zero mean over the inputs for every class; ‖Ĩ_f‖² = N − Σ_c N_c² / N."""
        N, n = self.centered.shape
        inner = self.centered[np.arange(N), f].sum()
        counts = np.bincount(f, minlength=n).astype(np.float64)
        spread = N - (counts**2).sum() / N
        if self.norm <= 0 or spread <= 0:
            return float("nan")
        return float(inner / (self.norm * math.sqrt(spread)))

    def correlation(self, f: np.ndarray) -> float:
        """``corr(L̃, Ĩ_f) / corr(L̃, Ĩ_argmax)``: 1 for the network's own function."""
        if not (self.reference > 1e-12):
            return float("nan")
        return self.raw(f) / self.reference


def behaviour(prediction: np.ndarray, f: np.ndarray, mask: np.ndarray) -> float:
    """Share of the inputs in ``mask`` where the network's argmax equals ``f(x, y)``."""
    return float((prediction == f)[mask].mean()) if mask.any() else float("nan")


def separates(scores: dict[str, float], controls: list[ProgramMatch]) -> dict[str, bool | None]:
    """For each score about *how*: does the program beat every near miss by :data:`MARGIN`?
    None where the score was not measured for the program (no faithful circuit to locate a
    node in, say): not measured is neither evidence nor its absence."""
    out: dict[str, bool | None] = {}
    for name in EVIDENCE:
        mine = scores.get(name, float("nan"))
        if mine is None or not math.isfinite(mine):
            out[name] = None
            continue
        theirs = [c.score(name) for c in controls]
        out[name] = bool(controls) and all(not math.isfinite(t) or mine - t >= MARGIN
                                           for t in theirs)  # fmt: skip
    return out


def _pct(v: float) -> str:
    return f"{v:.1%}" if math.isfinite(v) else "–"


def best_candidate(rows: list[ProgramMatch]) -> ProgramMatch | None:
    """The candidate the network is compared with: the program (the synthesizer's or the
    user's; not the table, not a control) with the best behaviour, ties to the shorter."""
    programs = [r for r in rows if r.kind in ("program", "user")]
    if not programs:
        return None
    return max(programs, key=lambda r: (r.score("behaviour"), -(r.bits or math.inf)))


def verdict(
    rows: list[ProgramMatch], network_test_acc: float, controls: list[ProgramMatch] | None = None
) -> Match:
    """Name the program the network implements (graded), or say it memorized and show why.

    The candidate is the program (not the table, not a control) with the best behaviour,
    ties to the shorter. See the module docstring for the grades.
    """
    controls = controls or []
    table = next((r for r in rows if r.kind == "table"), None)
    best = best_candidate(rows)
    if best is None:
        return Match("", Grade.MEMORIZATION, f"{MEMORIZATION}: no programs to match",
                     float("nan"), float("nan"), False)  # fmt: skip
    b, bt = best.score("behaviour"), best.score("behaviour_test")
    evidence = separates(best.scores, controls)
    names = [c.program for c in controls]
    if b >= IMPLEMENTS and not bt < IMPLEMENTS:  # and on the held-out pairs (NaN: none)
        return Match(best.program, Grade.IMPLEMENTS, f"implements {best.program} "
                     f"(behaviour {_pct(b)})", b, bt, True, evidence, names)  # fmt: skip
    if bt >= PARTIAL:
        text = (f"implements {best.program} on {_pct(b)} of inputs "
                f"({_pct(bt)} of held-out pairs; not fully grokked)")  # fmt: skip
        return Match(best.program, Grade.PARTIAL, text, b, bt, False, evidence, names)
    facts = [f"best program {best.program} agrees on {_pct(bt)} of held-out pairs "
             f"({_pct(best.score('behaviour_train'))} of training pairs)"]  # fmt: skip
    if network_test_acc >= PARTIAL:
        text = (f"generalizes (test accuracy {_pct(network_test_acc)}) but implements none of "
                f"the candidates; " + "; ".join(facts))  # fmt: skip
        return Match(best.program, Grade.OTHER, text, b, bt, False, evidence, names)
    if table is not None:
        facts.append(f"the memorized table on {_pct(table.score('behaviour_train'))} of "
                     "training pairs")  # fmt: skip
    shown = table if table is not None and table.score("behaviour") > b else best
    return Match(shown.program, Grade.MEMORIZATION, f"{MEMORIZATION}: " + "; ".join(facts),
                 shown.score("behaviour"), shown.score("behaviour_test"), False, {}, names)  # fmt: skip
