"""Matching: which of the synthesizer's programs does the network implement?

Three depths, each a number in [0, 1], measured on every valid input of the task:

1. **behaviour** — the share of inputs where the network's argmax equals the program's
   output ``f(x, y)``. Two programs that agree everywhere tie here; the next two tell apart
   *how* the network computes.
2. **spectrum** — the program's indicator tensor ``I[x, y, c] = 1[f(x, y) = c]`` has a
   Fourier transform over (x, y, c); its *support* is the smallest set of coefficients
   holding 99% of its (class-centered) energy. For ``f = x + y``, ``Î`` lives on the n
   coefficients ``(k, k, −k)``: the waves ``e^{iω_k(x + y − c)}``. The score is the share of
   the network's centered logit energy that falls inside that support. Coefficients are
   taken in the circuit's basis (discrete logs for products). A dense support (a random
   table's) makes the share trivially high, so the support's size is reported beside it.
3. **intermediates** — for each internal node v of the program (``x**2`` and ``y**2`` in
   ``x**2 + y**2``, and the root), the *correlation ratio* of each layer's activations
   ``a(x, y)`` over the level sets of ``v(x, y)``:

       η² = Σ_levels n_l ‖mean_l − mean‖² / Σ_inputs ‖a − mean‖²

   the share of the layer's variance that is a function of v. A layer computing
   ``cos(ω(x + y))`` has η² = 1 for v = x + y; one that ignores v has η² ≈ (levels)/(inputs).
   The logits count as the last layer: for the root node they show whether the output is a
   function of the program's value; the hidden layers show where along the way it appears
   (a residual stream that still carries x and y beside cos/sin(ω(x + y)) has η² < 1).
   A program's score is the mean, over its nodes that depend on *both* inputs, of the best
   layer's η². (A node of one input, like ``-y`` or ``x**2``, is read off the embedding of
   that input by any network: η² = 1 there says nothing about the algorithm.)

The verdict names the program with the best behaviour if the network agrees with it on at
least :data:`taskcore.events.IMPLEMENTS` of inputs; otherwise it is "memorization — no compact
circuit", with the numbers that show it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from compare.circuit import Circuit
from compare.fourier import Basis
from taskcore.events import IMPLEMENTS
from taskcore.serial import JsonMixin

SUPPORT_MASS = 0.99
MEMORIZATION = "memorization — no compact circuit"


def eta_squared(a: np.ndarray, v: np.ndarray) -> float:
    """Correlation ratio of activations ``a`` (N, D) over the level sets of ``v`` (N,).

    ``η² = Σ_l n_l ‖mean_l − mean‖² / Σ_i ‖a_i − mean‖²``: 1 when a is a function of v,
    about (levels − 1)/N when a and v are independent; 0 for a constant a.
    """
    return LayerBank({"a": a}).eta_squared(v)["a"]


class LayerBank:
    """Every layer's activations over the same N inputs, centered once and laid side by side,
    so η² of all layers over one level function is a single matrix product.

    With ``ã = a − mean`` and the level sums ``S_l = Σ_{i in l} ã_i`` (``S = onehot(v)ᵀ ã``),
    ``n_l ‖mean_l − mean‖² = ‖S_l‖² / n_l``. Results are cached per partition of the inputs,
    so ``x + y``, ``x - -y`` and ``inv(x + y)`` (the same level sets) cost one product.
    The product runs in float32 through torch, whose threaded GEMM is the fast one here.
    """

    def __init__(self, layers: dict[str, np.ndarray]):
        import torch

        self.names = list(layers)
        widths = [int(np.prod(np.shape(a)[1:], dtype=np.int64)) for a in layers.values()]
        self.starts = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
        C = torch.cat(
            [
                torch.as_tensor(np.asarray(a), dtype=torch.float32).reshape(len(a), -1)
                for a in layers.values()
            ],
            dim=1,
        )  # (N, ΣD)
        scale = np.add.reduceat((C.double() ** 2).sum(0).numpy(), self.starts)
        self.C = C - C.mean(dim=0)
        total = np.add.reduceat((self.C.double() ** 2).sum(0).numpy(), self.starts)
        # a constant layer (up to rounding) has no variance to explain
        self.totals = np.where(total > 1e-10 * np.maximum(scale, 1.0), total, 0.0)
        self.cache: dict[bytes, dict[str, float]] = {}

    def eta_squared(self, v: np.ndarray) -> dict[str, float]:
        """η² of every layer over the level sets of v (N,)."""
        import torch

        _, first, labels = np.unique(
            np.asarray(v).reshape(-1), return_index=True, return_inverse=True
        )
        rank = np.empty(len(first), dtype=np.int64)
        rank[np.argsort(first)] = np.arange(len(first))
        labels = rank[labels]  # the partition's canonical labelling: by first occurrence
        key = labels.tobytes()
        if key not in self.cache:
            n_l = np.bincount(labels).astype(np.float64)
            onehot = torch.zeros(len(n_l), len(labels))
            onehot[torch.from_numpy(labels), torch.arange(len(labels))] = 1.0
            S = (onehot @ self.C).double().numpy()  # (levels, ΣD)
            between = np.add.reduceat((S**2 / n_l[:, None]).sum(axis=0), self.starts)
            self.cache[key] = {
                name: float(b / t) if t > 0 else 0.0
                for name, b, t in zip(self.names, between, self.totals, strict=True)
            }
        return self.cache[key]


def behaviour(net_pred: np.ndarray, f: np.ndarray, mask: np.ndarray) -> float:
    """Share of the inputs in ``mask`` where the network's argmax equals ``f(x, y)``."""
    return float((net_pred == f)[mask].mean()) if mask.any() else float("nan")


def _half_weight(m: int) -> np.ndarray:
    """How many full-spectrum bins each bin of a real FFT's last axis stands for (1 or 2)."""
    k = np.arange(m // 2 + 1)
    return np.where((k == 0) | (2 * k == m), 1.0, 2.0)


def logit_power(logits: np.ndarray, basis: Basis) -> np.ndarray:
    """|FFT|² of the class-centered logits on the basis grid, (m, m, m//2 + 1) over
    (k_x, k_y, k_c), each bin weighted by the conjugate bins it stands for."""
    L = basis.reindex(np.asarray(logits, dtype=np.float64), axes=(0, 1, 2))
    L_hat = np.abs(np.fft.rfftn(L - L.mean(axis=(0, 1)))) ** 2
    return L_hat * _half_weight(basis.m)


def spectrum_share(
    power: np.ndarray, f: np.ndarray, basis: Basis, mass: float = SUPPORT_MASS
) -> tuple[float, float]:
    """(share of centered logit energy inside the Fourier support of 1[f = c], support size).

    ``power`` is :func:`logit_power` of the network's logits. The indicator is laid on the
    same basis grid (positions i, j, l of x, y, c), centered per class over (x, y) and
    transformed with a 3-D FFT. Its support is the smallest set of coefficients holding
    ``mass`` of its energy; the size is returned as a fraction of all m³ coefficients.
    (Both spectra are of real tensors, so only half the c-frequencies are computed, each
    standing for itself and its mirror image.)
    """
    m = basis.m
    I = (basis.reindex(f, axes=(0, 1))[:, :, None] == basis.residue[None, None, :]).astype(float)
    w = np.broadcast_to(_half_weight(m), power.shape).ravel()
    I_hat = (np.abs(np.fft.rfftn(I - I.mean(axis=(0, 1)))) ** 2).ravel()
    if I_hat.sum() <= 0:
        return 0.0, 0.0
    big = np.flatnonzero(I_hat > 1e-9 * I_hat.max())  # sort only the coefficients that count
    order = big[np.argsort(I_hat[big])[::-1]]
    cum = np.cumsum(I_hat[order] * w[order])
    size = int(np.searchsorted(cum, mass * (I_hat * w).sum()) + 1)
    inside = power.ravel()[order[:size]].sum()
    return float(inside / max(power.sum(), 1e-30)), float(w[order[:size]].sum() / m**3)


@dataclass(frozen=True)
class NodeMatch(JsonMixin):
    """η² of every layer over the level sets of one internal node of a program."""

    node: str
    eta2: dict[str, float]  # layer name → η²
    best_layer: str = ""
    best: float = float("nan")

    @classmethod
    def of(cls, node: str, eta2: dict[str, float]) -> NodeMatch:
        best = max(eta2, key=eta2.get) if eta2 else ""
        return cls(node, eta2, best, eta2[best] if eta2 else float("nan"))


@dataclass(frozen=True)
class ProgramMatch(JsonMixin):
    """One synthesized program held against the network."""

    rank: int
    expr: str
    kind: str  # "program" | "table"
    bits: float
    behaviour: float  # on every valid input
    train_behaviour: float  # on the training pairs only
    spectrum: float
    support: float  # the spectrum's support, as a share of all coefficients
    intermediates: float  # mean over two-input nodes of the best layer's η² (nan: none)
    nodes: list[NodeMatch] = field(default_factory=list)


def depends_on_both(v: np.ndarray) -> bool:
    """Whether an (n, n) table v(x, y) varies with x for some y and with y for some x."""
    return bool((v != v[:1, :]).any() and (v != v[:, :1]).any())


def layer_bank(layers: dict[str, np.ndarray], domain: np.ndarray) -> LayerBank:
    """The layers (n², ...) restricted to the valid inputs, ready for η²."""
    flat = domain.reshape(-1)
    return LayerBank({k: a[flat] for k, a in layers.items()})


def node_matches(layers: LayerBank, nodes: dict[str, np.ndarray]) -> list[NodeMatch]:
    """η² of each layer over the level sets of each node's values (N,)."""
    return [NodeMatch.of(name, layers.eta_squared(v)) for name, v in nodes.items()]


@dataclass
class NetworkView:
    """What matching reads of one network, computed once and shared by every program.

    ``prediction`` is the (n, n) argmax (−1 off the domain); ``power`` the logits'
    :func:`logit_power` in ``basis``; ``layers`` the :func:`layer_bank` of the activations
    over the valid inputs; ``domain`` and ``train`` (n, n) masks. ``spectra`` caches the
    spectrum score by table, for programs with one table (``x + y``, ``x - -y``).
    """

    prediction: np.ndarray
    power: np.ndarray
    layers: LayerBank
    domain: np.ndarray
    train: np.ndarray
    basis: Basis
    spectra: dict[bytes, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """A program to hold against the network: its table f (n, n; −1 where it says nothing)
    and the (n, n) values of each internal node, as :func:`compare.analysis.program_tables`
    makes them."""

    rank: int
    expr: str
    kind: str  # "program" | "table"
    bits: float
    table: np.ndarray
    nodes: dict[str, np.ndarray]


def match_program(c: Candidate, view: NetworkView) -> ProgramMatch:
    """Score one candidate program against the network."""
    domain = view.domain
    nodes = node_matches(view.layers, {k: v[domain] for k, v in c.nodes.items()})
    table = np.where(domain, c.table, -1)
    key = table.tobytes()
    if key not in view.spectra:
        view.spectra[key] = spectrum_share(view.power, table, view.basis)
    share, support = view.spectra[key]
    joint = [nd.best for nd in nodes if depends_on_both(c.nodes[nd.node])]
    return ProgramMatch(
        rank=c.rank,
        expr=c.expr,
        kind=c.kind,
        bits=float(c.bits),
        behaviour=behaviour(view.prediction, c.table, domain),
        train_behaviour=behaviour(view.prediction, c.table, domain & view.train),
        spectrum=share,
        support=support,
        intermediates=float(np.mean(joint)) if joint else float("nan"),
        nodes=nodes,
    )


@dataclass(frozen=True)
class Match(JsonMixin):
    """The answer: which program the network implements (``implements``) and the scores."""

    program: str  # the best-behaving program's plain ASCII text
    behaviour: float
    spectrum: float
    intermediates: float
    verdict: str
    implements: bool


def verdict(rows: list[ProgramMatch], circuit: Circuit | None) -> Match:
    """Name the program the network implements, or say it memorized and show why.

    The candidate is the program (not the literal table) with the best behaviour, ties to the
    shorter. It is *implemented* when behaviour ≥ :data:`~taskcore.events.IMPLEMENTS`. Otherwise the
    network has at most memorized its training pairs: the match names whichever candidate
    agrees with it on more inputs, the best program or the literal table, and the verdict
    gives the agreement with the best program overall and on the training pairs, the logit
    model's share of variance and how many frequencies 90% of the embedding needs.
    """
    programs = [r for r in rows if r.kind != "table"] or rows
    if not programs:
        return Match(
            "",
            float("nan"),
            float("nan"),
            float("nan"),
            f"{MEMORIZATION}: no programs to match",
            False,
        )
    best = max(programs, key=lambda r: (r.behaviour, -r.bits))
    scores = f"behaviour {best.behaviour:.1%}, spectrum {best.spectrum:.1%}, intermediates {_num(best.intermediates)}"
    if best.behaviour >= IMPLEMENTS:
        text = f"implements {best.expr} ({scores})"
        if circuit is not None and not circuit.found:
            text += f"; the Fourier circuit explains only {circuit.fve:.0%} of the logits"
        return Match(best.expr, best.behaviour, best.spectrum, best.intermediates, text, True)
    facts = [
        f"best program {best.expr} agrees on {best.behaviour:.1%} of inputs "
        f"({best.train_behaviour:.1%} of training pairs)"
    ]
    table = next((r for r in rows if r.kind == "table"), None)
    if table is not None:
        facts.append(f"the memorized table on {table.train_behaviour:.1%} of training pairs")
    if circuit is not None:
        facts.append(f"Fourier logit model explains {circuit.fve:.1%} of logit variance")
        if circuit.frequencies_for_90:
            facts.append(f"{circuit.frequencies_for_90} frequencies hold 90% of the embedding")
    # the candidate closest to the network on all inputs: the memorized table for a lookup
    # task, the almost-learned program for a run caught half-way through cleanup
    shown = table if table is not None and table.behaviour > best.behaviour else best
    return Match(
        shown.expr,
        shown.behaviour,
        shown.spectrum,
        shown.intermediates,
        f"{MEMORIZATION}: " + "; ".join(facts),
        False,
    )


def _num(v: float) -> str:
    return "n/a" if v is None or not math.isfinite(v) else f"{v:.2f}"
