"""The extracted circuit: what it computes, how well that holds, and its forms.

The circuit read off a network (:mod:`compare.extract`) is a program,

    f(x, y) = argmax_c Σ_{ρ ∈ K} α_ρ χ_ρ(u(x, y)·c⁻¹) + β_ρ χ'_ρ(u(x, y)·c⁻¹)

(for Z_p: Σ_k 2α_k cos(ω_k(u − c)) + 2β_k sin(ω_k(u − c)); :mod:`compare.readout`), read
through a node u proposed by the programs (:mod:`compare.nodes`), with its embedding read
through a one-input node e (:mod:`compare.embedding`). :class:`Circuit` holds it and the
measures of it, JSON-ready; it also gives the circuit as sympy, as a networkx graph
(inputs → waves of e(x), e(y) → products → logits → argmax) and its table of predictions.

Each measure that could pass by chance carries its **baseline**: the restricted loss and the
key share are also measured for random key sets of the same size, and ``key_span`` says how
much of the functions of u the key irreps span — where they span most of them (every irrep
of S4 is key) keeping the key directions keeps almost everything, and neither measure can
fail (:attr:`Circuit.measures_can_fail`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from compare.basis import Basis
from compare.logits import Node
from compare.readout import Readout, best_positions, faithful, quantize
from synth.ladder import DATA, Rung
from synth.mdl import data_bits
from taskcore.events import (  # one definition, shared with the glossary
    COMPACT,
    FAITHFUL,
    FORMED,
    BasisKind,
)
from taskcore.serial import JsonMixin


def circuit_found(
    faithful: bool, basis: str, span: float, restricted_loss: float, chance_loss: float
) -> bool:
    """The one definition of a circuit *found*, each clause a way it could otherwise pass by
    accident:

    * **faithful** — its argmax agrees with the network on the inputs and on the held-out
      pairs (:func:`compare.readout.faithful`): the training pairs alone do not pass;
    * **its logits, not just its argmax** — the key directions alone predict the task:
      restricted loss ≤ :data:`FORMED` · log n. With one positive α the argmax of
      cos(ω(u − c)) is u, so a network that computes f by any means is "faithful" to a
      circuit read through u = f; its logits are not that circuit unless keeping only the key
      directions keeps its predictions;
    * **compact** (over Z_m) — the key frequencies span at most :data:`COMPACT` of the
      functions of u; a peak at c = u is every frequency at once. A small non-abelian group
      may need every irrep it has (S4): there the circuit stands, and the report says that
      restricted loss and key share cannot fail.
    """
    compact = basis == BasisKind.IRREPS or span <= COMPACT
    return faithful and compact and restricted_loss <= FORMED * chance_loss


def circuit_sympy(node: Node, readout: Readout):
    """``argmax(Σ α χ(u·c⁻¹) + β χ'(u·c⁻¹), c)`` with coefficients rounded to 3 decimals."""
    import sympy

    u, m, h = node.sympy_u(), node.basis.m, node.basis.harmonics

    def num(v: float):
        return sympy.Float(round(float(v), 3), 4)

    if node.basis.kind == BasisKind.IRREPS:
        c = sympy.Symbol("c", commutative=False)
        terms = [num(a) * sympy.Function(f"χ[{h.names[r]}]")(u * c**-1)
                 for r, a in zip(readout.key, readout.alpha, strict=True)]  # fmt: skip
        return sympy.Function("argmax")(sympy.Add(*terms), c)
    c = sympy.Symbol("c")
    cc = sympy.Function(f"log_{node.basis.g}")(c) if node.basis.kind == BasisKind.DLOG else c
    beta = readout.beta if readout.beta is not None else np.zeros(len(readout.key))
    terms = []
    for k, a, b in zip(readout.key, readout.alpha, beta, strict=True):
        angle = 2 * sympy.pi * k / m * (u - cc)
        terms.append(num(a) * 2 * sympy.cos(angle))
        if b:
            terms.append(num(b) * 2 * sympy.sin(angle))
    return sympy.Function("argmax")(sympy.Add(*terms), c)


def circuit_graph(node: Node, readout: Readout, embedding_node: str = "x"):
    """inputs → irrep features → products → logits → argmax, edges child → parent.

    For each key irrep ρ: its features of e(x) and of e(y) (for Z_m cos/sin(ω_k e(x)), of
    log x in the dlog basis; for a group the matrix entries of ρ(x)), the products that make
    ρ(u) (cos(ω_k u) = cos ω_k e(x) cos ω_k e(y) − sin sin, …; ρ(x·y) = ρ(x)ρ(y)), then the
    logit node Σ α_ρ χ_ρ(u·c⁻¹) (+ β χ'_ρ with a phase) and the argmax over c.
    """
    import networkx as nx

    g = nx.DiGraph()
    names = node.basis.harmonics.names
    ex = embedding_node
    ey = "".join({"x": "y", "y": "x"}.get(ch, ch) for ch in ex)
    if node.basis.kind == BasisKind.DLOG:
        ex, ey = f"log {ex}", f"log {ey}"
    g.add_node("x", label="x", kind="input")
    g.add_node("y", label="y", kind="input")
    g.add_node("logits", label="Σ α_ρ χ_ρ(u·c⁻¹)", kind="logits", u=node.text)
    g.add_node("argmax", label="argmax_c", kind="output")
    g.add_edge("logits", "argmax")
    cyclic = node.basis.kind != BasisKind.IRREPS
    phases = readout.phase()
    for i, k in enumerate(readout.key):
        parts = ("cos", "sin") if cyclic else ("ρ",)
        for var, lab in (("x", ex), ("y", ey)):
            for fn in parts:
                name = f"{fn}{k}({var})"
                text = f"{fn}(ω_{k} {lab})" if cyclic else f"{names[k]}({lab})"
                g.add_node(name, label=text, kind="feature", freq=k)
                g.add_edge(var, name)
        for fn in parts:
            name = f"{fn}{k}(u)"
            g.add_node(name, label=f"{fn}(ω_{k} u)" if cyclic else f"{names[k]}(u)",
                       kind="product", freq=k)  # fmt: skip
            for src in parts:
                g.add_edge(f"{src}{k}(x)", name)
                g.add_edge(f"{src}{k}(y)", name)
            g.add_edge(name, "logits", alpha=float(readout.alpha[i]), phase=float(phases[i]))
    return g


@dataclass(frozen=True)
class Circuit(JsonMixin):
    """The circuit extracted from one network: what it computes and how well that holds.

    Losses are cross-entropies in nats; shares and scores are in [0, 1]. ``frequency_share``
    and ``embedding_share`` are indexed by irrep (for Z_m by frequency k = 0 … ⌊m/2⌋);
    ``key_frequencies`` lists the key irreps' indices (for Z_m the frequencies themselves) and
    ``key_irreps`` describes each: name, dim (of ρ's matrices), share (of the logits along u),
    embedding share, α, and over Z_m amplitude and phase. ``beta`` is empty when the model
    has no phase. ``*_baseline`` is the same measure for random key sets of the same size
    (the embedding node's: for a random relabelling of its values).
    """

    basis: str  # "additive" | "dlog" | "irreps"
    g: int  # primitive root of the dlog basis (0 otherwise)
    m: int  # order of the group analysed
    node: str  # u, e.g. "x + y", "x**2 + y**2"
    node_bits: float  # L(u) under the grammar
    key_frequencies: list[int]
    alpha: list[float]
    beta: list[float]  # the phase terms; empty: no phase
    fve: float
    node_share: float  # the share of the logit variance that is a function of u at all
    restricted_loss: float
    restricted_loss_baseline: float
    excluded_loss: float
    full_loss: float  # the network's own loss over the same inputs as the restricted loss
    train_loss: float
    chance_loss: float  # log n
    faithfulness: float
    faithfulness_test: float  # on the held-out pairs (NaN: none)
    bits: float | None  # template_bits + L(train labels | circuit); None when not found
    template_bits: float
    exceptions: int  # training pairs where the argmax differs from the label or the network
    quant_bits: int
    zero_class: int | None
    key_span: float  # share of the functions of u the key irreps span
    frequency_share: list[float]  # share of ‖L̃‖² in each irrep's directions along u
    embedding_node: str = "x"
    embedding_node_share: float = float("nan")  # of the embedding, in e's key waves
    embedding_node_baseline: float = float("nan")
    embedding_share: list[float] = field(default_factory=list)  # per k; empty without embedding
    key_share: float = float("nan")  # the key frequencies' share of the embedding's energy
    key_share_baseline: float = float("nan")
    frequencies_for_90: int = 0
    neuron_layer: str | None = None
    neuron_clusters: dict[str, int] = field(default_factory=dict)  # k → neurons (0: other)
    neuron_key_fraction: float = float("nan")  # neurons whose dominant frequency is key
    neuron_mean_share: float = float("nan")  # mean share explained by the dominant frequency
    neuron_frequency: list[int] = field(default_factory=list)  # per neuron (0: dead)
    neuron_share: list[float] = field(default_factory=list)  # per neuron
    expression: str = ""
    group: str | None = None  # the group of an "irreps" basis
    key_irreps: list[dict] = field(default_factory=list)
    irrep_names: list[str] = field(default_factory=list)  # every irrep's name, by index
    branches: list[dict] = field(default_factory=list)  # per branch of a conditional, if read

    @property
    def found(self) -> bool:
        """A circuit that describes the network (:func:`circuit_found`)."""
        return circuit_found(
            faithful(self.key_frequencies, self.faithfulness, self.faithfulness_test),
            self.basis, self.key_span, self.restricted_loss, self.chance_loss)  # fmt: skip

    def json_derived(self) -> dict:
        """What a report says of the fields without the code, written beside them in the
        JSON (:func:`taskcore.serial.to_jsonable`; ignored when read back)."""
        return {"found": self.found, "measures_can_fail": self.measures_can_fail,
                "why_not_found": self.why_not_found()}  # fmt: skip

    def why_not_found(self) -> str:
        """Why this circuit does not describe the network ("" when it does): the first clause
        of :func:`circuit_found` it fails, with its numbers."""
        what = "irrep" if self.basis == BasisKind.IRREPS else "frequency"
        if not self.key_frequencies:
            return f"no key {what} along u = {self.node}"
        if self.faithfulness < FAITHFUL:
            return f"its argmax agrees with the network on {self.faithfulness:.1%} of inputs"
        if self.faithfulness_test < FAITHFUL:
            return (f"its argmax agrees with the network on {self.faithfulness:.1%} of inputs but "
                    f"on {self.faithfulness_test:.1%} of the held-out pairs")  # fmt: skip
        if self.basis != BasisKind.IRREPS and self.key_span > COMPACT:
            return (f"its key frequencies span {self.key_span:.0%} of the functions of u: a peak "
                    "at u, not a compact circuit")  # fmt: skip
        if not self.restricted_loss <= FORMED * self.chance_loss:
            return (f"its argmax agrees with the network, but its key directions alone do not "
                    f"predict the task (restricted loss {self.restricted_loss:.3f}, above "
                    f"{FORMED:g} · log n = {FORMED * self.chance_loss:.3f})")  # fmt: skip
        return ""

    def rung(self, N: int, n: int) -> Rung:
        """The circuit's rung of the description-length ladder (:mod:`synth.ladder`): its
        template plus its exceptions on the N training pairs, or — no circuit found — no bits
        and why."""
        keys = ", ".join(self.irrep_names[r] for r in self.key_frequencies) or (
            "no key irrep" if self.basis == BasisKind.IRREPS else "no key frequency")
        phase = ", phase" if self.phased else ""
        caveat = "" if self.measures_can_fail else (
            "restricted loss and key share cannot fail here (the key irreps span "
            f"{self.key_span:.0%} of the functions of u): not evidence")  # fmt: skip
        return Rung(
            "extracted circuit", f"u = {self.node}: {keys}", self.bits, DATA,
            f"template {self.template_bits:.1f} (basis, node u at {self.node_bits:.2f}, key "
            f"irreps, α{phase}) + L(labels | circuit) {data_bits(self.exceptions, N, n):.1f} "
            f"({self.exceptions:,} exceptions of {N:,}: the label or the network differs)",
            f"faithfulness {self.faithfulness:.1%}" if self.found
            else f"no circuit: {self.why_not_found()}", caveat,
        )  # fmt: skip

    @property
    def measures_can_fail(self) -> bool:
        """Whether restricted loss and key share are evidence here: the key irreps must leave
        out most of the functions of u (:data:`COMPACT`)."""
        return self.key_span <= COMPACT

    @property
    def phased(self) -> bool:
        return bool(self.beta)

    def node_obj(self) -> Node:
        n = self.m + 1 if self.basis == BasisKind.DLOG else self.m
        return Node(Basis(self.basis, n, self.g, self.group), self.node, self.node_bits)

    def readout(self) -> Readout:
        return Readout(list(self.key_frequencies), np.asarray(self.alpha, dtype=np.float64),
                       np.asarray(self.beta, dtype=np.float64) if self.beta else None)  # fmt: skip

    def to_sympy(self):
        return circuit_sympy(self.node_obj(), self.readout())

    def dag(self):
        return circuit_graph(self.node_obj(), self.readout(), self.embedding_node)

    def predict(self, task) -> np.ndarray:
        """The circuit's (n, n) table of predictions on ``task``'s inputs (−1 outside its domain;
        the zero class where u has no position)."""
        node = self.node_obj()
        readout = self.readout()
        readout = readout.with_coefficients(quantize(readout.coefficients, self.quant_bits))
        best = node.basis.residue[best_positions(node.basis.harmonics, readout)]
        u = node.positions(task.algebra)
        pred = np.where(u >= 0, best[np.maximum(u, 0)], -1 if self.zero_class is None
                        else self.zero_class)  # fmt: skip
        return np.where(task.domain, pred, -1)


def logit_model_points(
    circuit: Circuit, logits: np.ndarray, task, sample: int = 20_000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(model, actual) at ``sample`` random (input, class) pairs the circuit reads: the model
    Σ α χ(u·c⁻¹) + β χ'(u·c⁻¹) and the network's logit with its class mean removed."""
    node = circuit.node_obj()
    basis, h = node.basis, node.basis.harmonics
    u = node.positions(task.algebra)
    cover = task.domain & (u >= 0)
    rows = np.asarray(logits, dtype=np.float64)[cover][:, basis.residue]  # classes on positions
    centered = rows - rows.mean(axis=0)
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(rows), size=sample)
    c = rng.integers(0, basis.m, size=sample)
    g = circuit.readout().model(h)
    return g[h.quotient[u[cover][i], c]], centered[i, c]
