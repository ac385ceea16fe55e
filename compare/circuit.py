"""The extracted circuit as a program: its predictions, its description length, its forms.

The circuit read off the logits (:mod:`compare.logits`) is itself a program,

    f(x, y) = argmax_c Σ_{ρ ∈ K} α_ρ χ_ρ(u(x, y)·c⁻¹)     (for Z_p: Σ_k α_k 2cos(ω_k(u − c))),

with a sympy form, a networkx graph (inputs → irrep features → products → logits →
argmax), a
*faithfulness* (the share of valid inputs where its argmax equals the network's) and a
description length of the training data in bits, under the same two-part code as every
program (:mod:`synth.mdl`):

    bits = L(template) + L(train labels | circuit)
         = template_bits + log2(N + 1) + log2 C(N, k) + k · log2 n,

where k counts the training pairs whose label the circuit's argmax gets wrong. The template
is everything needed to rebuild the circuit (:func:`template_bits`). A circuit that is not
*found* (no key frequency, or not faithful to the network) has no bits: it is not a
description of what the network does, so it is not priced as one.

:func:`extract_circuit` gathers all of it, with the embedding and neuron spectra of
:mod:`compare.spectra`, into one :class:`Circuit`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from compare.fourier import Basis
from compare.logits import (
    FORMS,
    Form,
    LogitFit,
    alpha,
    candidate_bases,
    choose_form,
    cross_entropy,
    embedding_key_frequencies,
    fve,
    grid_mask,
    key_frequencies,
    restricted_excluded,
)
from compare.spectra import embedding_share, frequencies_for_mass, neuron_frequencies
from synth.mdl import choice_bits, data_bits, integer_bits, subset_bits
from taskcore.events import FAITHFUL
from taskcore.serial import JsonMixin
from taskcore.table import Split, Task

MAX_QUANT_BITS = 12


def circuit_predictions(
    basis: Basis, form: Form, key: list[int], alphas: np.ndarray, zero_class: int | None
) -> np.ndarray:
    """(n, n) predictions of ``argmax_c Σ_ρ α_ρ χ_ρ(u(x, y)·c⁻¹)``.

    The argmax depends on u alone, so it is computed once per value of u. Inputs off the
    basis grid (0 in the dlog basis) get ``zero_class``.
    """
    n, m = basis.n, basis.m
    h = basis.harmonics
    if key:
        chi = np.stack([h.character(r) for r in key])  # (K, m)
        score = np.tensordot(np.asarray(alphas), chi, axes=1)[h.quotient]  # (u, c position)
        best = basis.residue[score.argmax(axis=1)]
    else:
        best = np.full(m, zero_class if zero_class is not None else 0)
    pred = np.full((n, n), -1 if zero_class is None else zero_class, dtype=np.int64)
    r = basis.residue
    pred[np.ix_(r, r)] = best[form.u()]
    return pred


def quantize(alphas: np.ndarray, q: int) -> np.ndarray:
    """α_k rounded to q bits of magnitude relative to the largest |α| (plus a sign bit)."""
    if len(alphas) == 0:
        return alphas
    scale = (2**q - 1) / max(np.abs(alphas).max(), 1e-30)
    return np.round(alphas * scale) / scale


def template_bits(
    n_bases: int, n_forms: int, n_irreps: int, n_key: int, q: int, zero_rule: bool, n: int
) -> float:
    """L(template): the bits that rebuild the circuit, under this prefix code —

    * which basis: log2(number of candidate bases) (additive, or discrete-log at a prime;
      a group's own irreps);
    * which form u: log2(number of candidate forms) (u = ±x ± y: 2 bits);
    * how many key irreps K: an integer, Elias gamma of K + 1;
    * which ones: a subset of the non-trivial irreps, log2 C(R, K) (R = ⌊m/2⌋ for Z_m);
    * the coefficient precision q: Elias gamma of q + 1; then each α as a sign and q bits
      of magnitude relative to the largest (q is the smallest precision that leaves the
      circuit's predictions unchanged);
    * the dlog basis only: the class predicted when x or y is 0 (0 has no log): log2 n.

    The fixed parts every circuit shares (characters, products, argmax) cost nothing, as the
    grammar's fixed meaning of ``+`` costs a program nothing.
    """
    bits = choice_bits(n_bases) + choice_bits(n_forms) + integer_bits(n_key)
    bits += subset_bits(n_irreps, n_key)
    if n_key:
        bits += integer_bits(q) + n_key * (q + 1)
    if zero_rule:
        bits += choice_bits(n)
    return float(bits)


def circuit_sympy(form: Form, key: list[int], alphas: np.ndarray):
    """``argmax(Σ α χ(u·c⁻¹), c)`` with α rounded to 3 decimals (for Z_m, χ_k = 2cos(…))."""
    import sympy

    u, m, h = form.sympy_u(), form.basis.m, form.basis.harmonics
    if form.basis.kind == "irreps":
        c = sympy.Symbol("c", commutative=False)
        terms = [sympy.Float(round(float(a), 3), 4)
                 * sympy.Function(f"χ[{h.names[r]}]")(u * c**-1)
                 for r, a in zip(key, alphas, strict=True)]  # fmt: skip
    else:
        c = sympy.Symbol("c")
        terms = [sympy.Float(round(float(a), 3), 4) * 2 * sympy.cos(2 * sympy.pi * k / m * (u - c))
                 for k, a in zip(key, alphas, strict=True)]  # fmt: skip
    return sympy.Function("argmax")(sympy.Add(*terms), c)


def circuit_graph(form: Form, key: list[int], alphas: np.ndarray):
    """inputs → irrep features → products → logits → argmax, edges child → parent.

    For each key irrep ρ: its features of x and of y (for Z_m cos/sin(ω_k x), of log x in
    the dlog basis; for a group the matrix entries of ρ(x)), the products that make ρ(u)
    (cos(ω_k u) = cos ω_k x̃ cos ω_k ỹ − sin sin, …; ρ(x·y) = ρ(x)ρ(y)), then the logit node
    Σ α_ρ χ_ρ(u·c⁻¹) and the argmax over c.
    """
    import networkx as nx

    g = nx.DiGraph()
    names = form.basis.harmonics.names
    lx, ly = ("log x", "log y") if form.basis.kind == "dlog" else ("x", "y")
    g.add_node("x", label="x", kind="input")
    g.add_node("y", label="y", kind="input")
    g.add_node("logits", label="Σ α_ρ χ_ρ(u·c⁻¹)", kind="logits", u=form.text)
    g.add_node("argmax", label="argmax_c", kind="output")
    g.add_edge("logits", "argmax")
    cyclic = form.basis.kind != "irreps"
    for k, a in zip(key, alphas, strict=True):
        parts = ("cos", "sin") if cyclic else ("ρ",)
        for var, lab in (("x", lx), ("y", ly)):
            for fn in parts:
                node = f"{fn}{k}({var})"
                text = f"{fn}(ω_{k} {lab})" if cyclic else f"{names[k]}({lab})"
                g.add_node(node, label=text, kind="feature", freq=k)
                g.add_edge(var, node)
        for fn in parts:
            node = f"{fn}{k}(u)"
            g.add_node(node, label=f"{fn}(ω_{k} u)" if cyclic else f"{names[k]}(u)",
                       kind="product", freq=k)  # fmt: skip
            for src in parts:
                g.add_edge(f"{src}{k}(x)", node)
                g.add_edge(f"{src}{k}(y)", node)
            g.add_edge(node, "logits", alpha=float(a))
    return g


@dataclass(frozen=True)
class Circuit(JsonMixin):
    """The circuit extracted from one network: what it computes and how well that holds.

    Losses are cross-entropies in nats; shares and scores are in [0, 1]. ``frequency_share``
    and ``embedding_share`` are indexed by irrep (for Z_m by frequency k = 0 … ⌊m/2⌋);
    ``key_frequencies`` lists the key irreps' indices (for Z_m the frequencies themselves) and
    ``key_irreps`` describes each: name, dim (of ρ's matrices), share (of the logits along u),
    embedding share, α.
    """

    basis: str  # "additive" | "dlog" | "irreps"
    g: int  # primitive root of the dlog basis (0 otherwise)
    m: int  # order of the group analysed
    form: str  # u, e.g. "x + y", "x * y"
    key_frequencies: list[int]
    alpha: list[float]
    fve: float
    restricted_loss: float
    excluded_loss: float
    full_loss: float  # the network's own loss over the same inputs as the restricted loss
    train_loss: float
    chance_loss: float  # log n
    faithfulness: float
    bits: float | None  # template_bits + L(train labels | circuit); None when not found
    template_bits: float
    exceptions: int  # training pairs whose label the circuit's argmax gets wrong
    quant_bits: int
    zero_class: int | None
    frequency_share: list[float]  # share of ‖L̃‖² in cos/sin(ω_k u), per k
    embedding_share: list[float] = field(default_factory=list)  # per k; empty without embedding
    key_share: float = float("nan")  # the key frequencies' share of the embedding's energy
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

    @property
    def found(self) -> bool:
        """A compact circuit: some key frequency, and its argmax agrees with the network."""
        return bool(self.key_frequencies) and self.faithfulness >= FAITHFUL

    def form_obj(self) -> Form:
        n = self.m + 1 if self.basis == "dlog" else self.m
        return Form(Basis(self.basis, n, self.g, self.group), self.form)

    def to_sympy(self):
        return circuit_sympy(self.form_obj(), self.key_frequencies, np.asarray(self.alpha))

    def dag(self):
        return circuit_graph(self.form_obj(), self.key_frequencies, np.asarray(self.alpha))

    def predict(self) -> np.ndarray:
        """The circuit's (n, n) table of predictions."""
        form = self.form_obj()
        return circuit_predictions(
            form.basis,
            form,
            self.key_frequencies,
            quantize(np.asarray(self.alpha), self.quant_bits),
            self.zero_class,
        )



def logit_model_points(
    circuit: Circuit, logits: np.ndarray, sample: int = 20_000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(model, actual) at ``sample`` random (x, y, c) on the basis grid: the logit model
    Σ α χ(u·c⁻¹) and the network's logit with its class mean over (x, y) removed."""
    form = circuit.form_obj()
    basis, h = form.basis, form.basis.harmonics
    on_grid = basis.reindex(np.asarray(logits, dtype=np.float64), axes=(0, 1, 2))
    centered = on_grid - on_grid.mean(axis=(0, 1))
    m = basis.m
    rng = np.random.default_rng(seed)
    i, j, c = (rng.integers(0, m, size=sample) for _ in range(3))
    u = form.u()[i, j]
    model = np.zeros(sample)
    for r, a in zip(circuit.key_frequencies, circuit.alpha, strict=True):
        model += a * h.character(r)[h.quotient[u, c]]
    return model, centered[i, j, c]


# ---------------------------------------------------------------------------------------
# Extraction


@dataclass(frozen=True)
class CircuitProgram:
    """The circuit as a program: its predictions on every input and its two-part code."""

    prediction: np.ndarray  # (n, n); −1 off the basis grid in the additive case never happens
    zero_class: int | None
    quant_bits: int
    faithfulness: float  # share of valid inputs where the argmax equals the network's
    template_bits: float
    exceptions: int  # training pairs whose label the prediction gets wrong
    bits: float  # template_bits + data_bits(exceptions, N, n)


def circuit_program(
    logits: np.ndarray, task: Task, split: Split, fit: LogitFit, key: list[int],
    alphas: np.ndarray,
) -> CircuitProgram:  # fmt: skip
    """The circuit ``argmax_c Σ_k α_k cos(ω_k(u − c))`` as a program, priced on the training
    labels of ``split``.

    In the dlog basis the inputs with x or y = 0 get one explicit class, the network's
    favourite there (0 has no log). q is the smallest coefficient precision whose argmax
    equals the exact fit's on every u; faithfulness is the share of valid inputs where the
    circuit's argmax equals the network's.
    """
    basis, form, n = fit.form.basis, fit.form, task.n
    zero_class = None
    if basis.kind == "dlog":
        off = task.domain & ~grid_mask(basis, n)
        zero_class = int(logits[off].mean(axis=0).argmax()) if off.any() else 0
    exact = circuit_predictions(basis, form, key, alphas, zero_class)
    q = next(
        (
            q
            for q in range(1, MAX_QUANT_BITS + 1)
            if np.array_equal(
                circuit_predictions(basis, form, key, quantize(alphas, q), zero_class), exact
            )
        ),
        MAX_QUANT_BITS,
    )
    net_pred = np.where(task.domain, logits.argmax(axis=2), -1)
    faithful = float((exact == net_pred)[task.domain].mean())
    template = template_bits(
        len(candidate_bases(task)), len(FORMS[basis.kind]), basis.harmonics.count - 1,
        len(key), q, zero_class is not None, n,
    )  # fmt: skip
    wrong = int((exact[split.x_train, split.y_train] != split.out_train).sum())
    return CircuitProgram(exact, zero_class, q, faithful, template, wrong,
                          template + data_bits(wrong, split.n_train, n))  # fmt: skip


def extract_circuit(
    logits: np.ndarray,
    task: Task,
    split: Split,
    embedding: np.ndarray | None = None,
    neurons: np.ndarray | None = None,
    neuron_layer: str | None = None,
    fit: LogitFit | None = None,
    with_expression: bool = True,
) -> Circuit:
    """Extract the Fourier circuit from a network's logits on all inputs.

    ``logits`` is (n, n, n): ``logits[x, y, c]`` for every input, valid or not; ``split`` the
    shared train/test split (its training labels price the circuit); ``embedding`` (n, d)
    the token embedding (optional); ``neurons`` (n, n, D) MLP activations on every input
    (optional). ``fit`` fixes the basis and form (e.g. those of the final checkpoint, for
    progress measures); by default they are chosen to explain the most logit variance.
    ``with_expression=False`` skips building the sympy text.
    """
    logits = np.asarray(logits, dtype=np.float64)
    fit = fit or choose_form(logits, candidate_bases(task))
    form, basis, n = fit.form, fit.form.basis, task.n
    key = key_frequencies(fit)
    share = None
    if embedding is not None:
        share = embedding_share(np.asarray(embedding, dtype=np.float64), basis)
        key += embedding_key_frequencies(share, exclude=key, sizes=basis.harmonics.sizes)
    alphas = alpha(fit, key)
    restricted, excluded = restricted_excluded(logits, task, split, fit, key)
    cover = grid_mask(basis, n) & task.domain
    labels = task.table
    program = circuit_program(logits, task, split, fit, key, alphas)
    found = bool(key) and program.faithfulness >= FAITHFUL

    emb_share: list[float] = []
    key_emb, n90 = float("nan"), 0
    if share is not None:
        emb_share = share.tolist()
        key_emb = float(share[key].sum()) if key else 0.0
        n90 = frequencies_for_mass(share[1:])

    clusters: dict[str, int] = {}
    key_frac = mean_share = float("nan")
    if neurons is not None:
        nf, ns = neuron_frequencies(np.asarray(neurons, dtype=np.float64), basis)
        alive = ns > 0
        for k in nf[alive]:
            label = str(int(k)) if int(k) in key else "0"
            clusters[label] = clusters.get(label, 0) + 1
        key_frac = float(np.isin(nf[alive], key).mean()) if alive.any() else 0.0
        mean_share = float(ns[alive].mean()) if alive.any() else 0.0

    return Circuit(
        basis=basis.kind,
        g=basis.g,
        m=basis.m,
        form=form.text,
        key_frequencies=key,
        alpha=[float(a) for a in alphas],
        fve=fve(fit, alphas, key),
        restricted_loss=restricted,
        excluded_loss=excluded,
        full_loss=cross_entropy(logits[cover], labels[cover]),
        train_loss=cross_entropy(logits[split.x_train, split.y_train], split.out_train),
        chance_loss=math.log(n),
        faithfulness=program.faithfulness,
        bits=program.bits if found else None,
        template_bits=program.template_bits,
        exceptions=program.exceptions,
        quant_bits=program.quant_bits,
        zero_class=program.zero_class,
        frequency_share=[float(s) for s in fit.share],
        embedding_share=emb_share,
        key_share=key_emb,
        frequencies_for_90=n90,
        neuron_layer=neuron_layer if neurons is not None else None,
        neuron_clusters=clusters,
        neuron_key_fraction=key_frac,
        neuron_mean_share=mean_share,
        neuron_frequency=[] if neurons is None else [int(k) for k in nf],
        neuron_share=[] if neurons is None else [round(float(v), 4) for v in ns],
        expression=str(circuit_sympy(form, key, alphas)) if with_expression else "",
        group=basis.group,
        key_irreps=[
            {"name": basis.harmonics.names[r], "dim": basis.harmonics.dims[r],
             "share": float(fit.share[r]), "alpha": float(a),
             "embedding_share": float(share[r]) if share is not None else None}
            for r, a in zip(key, alphas, strict=True)
        ],
        irrep_names=list(basis.harmonics.names),
    )  # fmt: skip
