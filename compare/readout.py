"""The circuit as a program: the logit model read through a node, its argmax, its two-part code.

The circuit read off the logits (:mod:`compare.logits`) is itself a program,

    f(x, y) = argmax_c Σ_{ρ ∈ K} α_ρ χ_ρ(t) + β_ρ χ'_ρ(t),   t = u(x, y)·c⁻¹

(for Z_p: χ_k(t) = 2cos(ω_k t), χ'_k(t) = 2sin(ω_k t), so each key frequency is a wave of
amplitude √(α² + β²) and phase atan2(β, α); without a phase, β = 0). Its argmax depends on
u alone, so it is computed once per value of u.

**Faithful, on the held-out pairs too.** The program describes the network only where its
argmax is the network's. It counts as *found* when it agrees with the network on at least
:data:`~taskcore.events.FAITHFUL` of the inputs it is read on *and* of the held-out pairs
among them: with positive α the argmax of cos(ω(u − c)) is exactly u whatever else the
network does, so at a 95% split a network that merely memorized passes the first gate on
its training pairs alone.

**Its description length** is the one two-part code of :mod:`synth.mdl`, on the N training
pairs:

    bits = L(template) + log2(N + 1) + log2 C(N, k) + k · log2 n,

where the k exceptions are the training pairs where the circuit's argmax differs from the
label *or from the network*. Listing a pair the label already agrees with is wasted bits —
a correct code of the labels, just longer — and it is how the network's own disagreements
with its circuit are paid for: a circuit that describes the labels but not the network is
not the network's description. The template (:func:`template_bits`) is everything needed to
rebuild the circuit: which basis; the node u, at its own bits under the grammar (the same
code that prices every program); which key irreps; whether the waves carry a phase; the
coefficients at the smallest precision q that leaves the argmax unchanged; and, where some
inputs have no position (0 in the dlog basis), the class answered there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from compare.logits import LogitFit
from synth.mdl import choice_bits, data_bits, integer_bits, subset_bits
from taskcore.events import FAITHFUL, BasisKind
from taskcore.table import Split, Task

MAX_QUANT_BITS = 12


def faithful(key: list[int], faithfulness: float, faithfulness_test: float) -> bool:
    """The gate: some key irrep, and the argmax agrees with the network on at least
    :data:`~taskcore.events.FAITHFUL` of the inputs read and of the held-out pairs among them
    (NaN: there are none)."""
    return bool(key) and faithfulness >= FAITHFUL and not faithfulness_test < FAITHFUL


@dataclass(frozen=True)
class Readout:
    """The logit model's coefficients per key irrep: α (of χ_ρ) and, with a phase, β (of χ'_ρ)."""

    key: list[int]
    alpha: np.ndarray
    beta: np.ndarray | None  # None: no phase

    @property
    def phased(self) -> bool:
        return self.beta is not None

    @property
    def coefficients(self) -> np.ndarray:
        return self.alpha if self.beta is None else np.concatenate([self.alpha, self.beta])

    def with_coefficients(self, c: np.ndarray) -> Readout:
        K = len(self.key)
        return Readout(self.key, c[:K], None if self.beta is None else c[K:])

    def amplitude(self) -> np.ndarray:
        """|α_ρ| without a phase, √(α² + β²) with one."""
        beta = 0.0 if self.beta is None else self.beta
        return np.sqrt(self.alpha**2 + beta**2)

    def phase(self) -> np.ndarray:
        """φ_ρ = atan2(β, α): the wave is A·χ_ρ(t − φ/ω). Zero (or π) without a phase."""
        beta = np.zeros_like(self.alpha) if self.beta is None else self.beta
        return np.arctan2(beta, self.alpha)

    def model(self, harmonics) -> np.ndarray:
        """The model as a function of t = u·c⁻¹ on positions: Σ α χ(t) + β χ'(t), shape (m,)."""
        g = np.zeros(harmonics.m)
        for i, r in enumerate(self.key):
            g += self.alpha[i] * harmonics.character(r)
            partner = harmonics.quadrature(r)
            if self.beta is not None and partner is not None:
                g += self.beta[i] * partner
        return g


def fit_readout(fit: LogitFit, key: list[int], phased: bool) -> Readout:
    """Least squares of ``L̃ ≈ Σ α χ(u·c⁻¹) + β χ'(u·c⁻¹)``: the projection of the readout g(t)
    on each (orthogonal) feature, ⟨g, χ⟩ / ‖χ‖² (:mod:`compare.logits`)."""
    h, g = fit.harmonics, fit.readout

    def coef(f: np.ndarray | None) -> float:
        return 0.0 if f is None else float(g @ f / max(float(f @ f), 1e-30))

    alpha = np.array([coef(h.character(r)) for r in key])
    beta = np.array([coef(h.quadrature(r)) for r in key]) if phased else None
    return Readout(list(key), alpha, beta)


def fve(fit: LogitFit, readout: Readout) -> float:
    """Fraction of ‖L̃‖² the model explains: N ‖g_K‖² / ‖L̃‖² (:mod:`compare.logits`)."""
    if not readout.key:
        return 0.0
    g = readout.model(fit.harmonics)
    return float(fit.covered * (g @ g) / max(fit.total, 1e-30))


def quantize(coefficients: np.ndarray, q: int) -> np.ndarray:
    """Coefficients rounded to q bits of magnitude relative to the largest |c| (plus a sign)."""
    if len(coefficients) == 0:
        return coefficients
    scale = (2**q - 1) / max(np.abs(coefficients).max(), 1e-30)
    return np.round(coefficients * scale) / scale


def best_positions(harmonics, readout: Readout) -> np.ndarray:
    """(m,): for each value position of u, the class position the model puts first."""
    return readout.model(harmonics)[harmonics.quotient].argmax(axis=1)


def template_bits(
    n_bases: int, node_bits: float, n_irreps: int, n_key: int, coefficients: int, q: int,
    phase_choice: bool, zero_rule: bool, n: int,
) -> float:  # fmt: skip
    """L(template): the bits that rebuild the circuit, under this prefix code —

    * which basis: log2(number of candidate bases) (additive, or discrete-log at a prime;
      a group's own irreps);
    * the node u: its own bits L(u) under the task's grammar, as a program pays;
    * how many key irreps K: an integer, Elias gamma of K + 1;
    * which ones: a subset of the non-trivial irreps, log2 C(R, K) (R = ⌊m/2⌋ for Z_m);
    * over Z_m, whether the waves carry a phase: 1 bit;
    * the coefficient precision q: Elias gamma of q + 1; then each coefficient (α, and β with
      a phase) as a sign and q bits of magnitude relative to the largest;
    * where some inputs have no position (0 in the dlog basis): the class answered there,
      log2 n.

    The fixed parts every circuit shares (characters, products, argmax) cost nothing, as the
    grammar's fixed meaning of ``+`` costs a program nothing.
    """
    bits = choice_bits(n_bases) + node_bits + integer_bits(n_key) + subset_bits(n_irreps, n_key)
    if phase_choice:
        bits += 1
    if n_key:
        bits += integer_bits(q) + coefficients * (q + 1)
    if zero_rule:
        bits += choice_bits(n)
    return float(bits)


@dataclass(frozen=True)
class CircuitProgram:
    """The circuit as a program: its readout, its predictions, how faithful, its code."""

    readout: Readout
    prediction: np.ndarray  # (n, n): the argmax on every input read (−1 elsewhere)
    zero_class: int | None  # the class answered where u has no position
    quant_bits: int
    faithfulness: float  # share of the inputs read where the argmax equals the network's
    faithfulness_test: float  # the same on the held-out pairs among them (NaN: none)
    template_bits: float
    exceptions: int  # training pairs where it differs from the label or from the network
    bits: float  # template_bits + data_bits(exceptions, N, n)

    @property
    def faithful(self) -> bool:
        """Some key irrep, and faithful on the inputs and on the held-out pairs."""
        return faithful(self.readout.key, self.faithfulness, self.faithfulness_test)


def circuit_program(
    logits: np.ndarray, task: Task, split: Split, fit: LogitFit, key: list[int], phased: bool,
    n_bases: int,
) -> CircuitProgram:  # fmt: skip
    """The circuit of ``fit`` with key irreps ``key`` as a program, priced on the training
    labels of ``split`` (module docstring). ``n_bases`` is how many bases it was chosen from."""
    basis, n, layout = fit.node.basis, task.n, fit.layout
    scope = layout.scope
    off = scope & ~layout.cover
    zero_class = int(logits[off].mean(axis=0).argmax()) if off.any() else None
    readout = fit_readout(fit, key, phased)
    exact = best_positions(fit.harmonics, readout)
    q = next((q for q in range(1, MAX_QUANT_BITS + 1)
              if np.array_equal(best_positions(fit.harmonics, readout.with_coefficients(
                  quantize(readout.coefficients, q))), exact)), MAX_QUANT_BITS)  # fmt: skip
    prediction = np.full((n, n), -1, dtype=np.int64)
    prediction[layout.cover] = basis.residue[exact][layout.u[layout.cover]]
    if zero_class is not None:
        prediction[off] = zero_class
    network = logits.argmax(axis=2)
    agree = (prediction == network) & scope
    test = split.masks(n)[1] & scope
    faithful = float(agree.sum() / max(scope.sum(), 1))
    faithful_test = float(agree[test].sum() / test.sum()) if test.any() else float("nan")
    h = basis.harmonics
    coefficients = len(readout.coefficients) if not phased else sum(
        1 + (h.quadrature(r) is not None) for r in key)  # fmt: skip
    template = template_bits(
        n_bases, fit.node.bits, h.count - 1, len(key), coefficients, q,
        basis.kind != BasisKind.IRREPS, zero_class is not None, n,
    )  # fmt: skip
    xs, ys = split.x_train, split.y_train
    said = prediction[xs, ys]
    wrong = int(((said != split.out_train) | (said != network[xs, ys])).sum())
    return CircuitProgram(readout, prediction, zero_class, q, faithful, faithful_test, template,
                          wrong, template + data_bits(wrong, split.n_train, n))  # fmt: skip


def best_program(
    logits: np.ndarray, task: Task, split: Split, fit: LogitFit, key: list[int], n_bases: int
) -> CircuitProgram:
    """The circuit of ``fit`` with and (over Z_m) without a phase: the faithful one, and of
    those the shorter code; if neither is faithful, the more faithful."""
    options = [False] if fit.node.basis.kind == BasisKind.IRREPS else [False, True]
    programs = [circuit_program(logits, task, split, fit, key, p, n_bases) for p in options]
    return min(programs, key=program_order)


def program_order(p: CircuitProgram) -> tuple:
    """Faithful circuits first, fewest bits; then the most faithful."""
    if p.faithful:
        return (0, p.bits, 0.0)
    return (1, -p.faithfulness if math.isfinite(p.faithfulness) else 0.0, p.bits)
