"""Circuit extraction: read the Fourier algorithm out of a network's logits and weights.

Nanda et al. 2023 found that a transformer which groks ``x + y mod p`` computes

    logit(x, y, c) ≈ Σ_{k ∈ K} α_k cos(ω_k (u − c)),   u = x + y,   ω_k = 2πk/p,

for a handful of *key frequencies* K: it embeds each number as waves ``cos ω_k x, sin ω_k x``,
multiplies waves of x and y in the MLP to get ``cos ω_k u, sin ω_k u`` (angle addition), and
the unembedding turns those into ``cos(ω_k(u − c))``, which is largest at ``c = u``.

Everything below works on the network's logits over *all* n² inputs, ``L[x, y, c]``, laid
out on a cyclic group Z_m by a :class:`~compare.fourier.Basis` (additive for x + y-like
tasks, discrete-log for x·y), with ``u = a·x + b·y (mod m)``, a, b = ±1 (the *form*:
x + y, x − y, y − x or −x − y). With the class means removed, ``L̃ = L − mean_{x,y} L``:

* **key frequencies** — the k whose two directions ``cos(ω_k u)``, ``sin(ω_k u)`` (in the
  (x, y) plane, any dependence on c) hold at least :data:`KEY_SHARE` of ‖L̃‖². That is
  2 directions per frequency, never the ~4·(m/2) cross terms that an outer product of 1-D
  frequency masks of x and y would keep; those cross terms would let the "restricted"
  logits fit memorized noise and flatter both losses below. Frequencies that hold ≥ 4× the
  uniform share of the embedding join them (see :func:`embedding_key_frequencies`).
* **the logit model**: α_k = ⟨L̃, cos(ω_k(u − c))⟩ / ‖cos(ω_k(u − c))‖² (least squares; the
  waves are orthogonal, so each α_k is fitted alone) and its fraction of variance explained
  ``fve = Σ_k α_k² ‖cos(ω_k(u − c))‖² / ‖L̃‖²``.
* **restricted loss**: the cross-entropy over all inputs of ``mean_c + P_K L̃``, where P_K
  projects onto the key directions; **excluded loss**: the cross-entropy over the training
  pairs of ``L − P_K L̃``. A network that uses the circuit has restricted loss at or below
  its full loss, and excluded loss near chance (log n) — its training fit *is* the circuit.
* **embedding spectrum**: each frequency's share of the (centered) embedding's squared
  norm, and how many of the largest carry 90%.
* **neuron clusters**: for every MLP neuron, the frequency k whose terms
  (cos/sin ω_k x, cos/sin ω_k y and their products) explain most of its variance over the
  n² inputs, and that share.

The extracted circuit is itself a program: ``argmax_c Σ_k α_k cos(ω_k(u(x, y) − c))``,
with a sympy form, a networkx graph and a description length (see :func:`circuit_bits`).
Its *faithfulness* is the share of inputs where its argmax equals the network's.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import networkx as nx
import numpy as np
import sympy

from compare.fourier import (
    Basis,
    additive_basis,
    dlog_basis,
    fold,
    fourier_basis,
    omega,
    spectrum,
)
from synthcmp.tasks import Task, is_prime

KEY_SHARE = 0.02  # a frequency is key when its 2 logit directions hold ≥ 2% of ‖L̃‖²
EMBED_KEY_FACTOR = 4.0  # an embedding frequency is key at ≥ 4× the uniform share
EMBED_MASS = 0.9  # "how many frequencies carry 90% of the embedding"
MAX_QUANT_BITS = 12
FORMS = ((1, 1), (1, -1), (-1, 1), (-1, -1))


# ---------------------------------------------------------------------------------------
# The form u = a·x + b·y on a basis


@dataclass(frozen=True)
class Form:
    """``u = a·i + b·j (mod m)`` on basis positions i = pos(x), j = pos(y).

    In the additive basis that is u = a·x + b·y; in the discrete-log basis it is
    log u = a·log x + b·log y, i.e. u = x^a · y^b.
    """

    basis: Basis
    a: int
    b: int

    def u(self) -> np.ndarray:
        """The (m, m) table of u over positions."""
        i = np.arange(self.basis.m)
        return (self.a * i[:, None] + self.b * i[None, :]) % self.basis.m

    @property
    def text(self) -> str:
        if self.basis.kind == "additive":
            return {(1, 1): "x + y", (1, -1): "x - y", (-1, 1): "y - x", (-1, -1): "-x - y"}[
                (self.a, self.b)
            ]
        return {(1, 1): "x * y", (1, -1): "x / y", (-1, 1): "y / x", (-1, -1): "inv(x * y)"}[
            (self.a, self.b)
        ]

    def sympy_u(self) -> sympy.Expr:
        x, y = sympy.symbols("x y")
        if self.basis.kind == "additive":
            return self.a * x + self.b * y
        log = sympy.Function(f"log_{self.basis.g}")
        return self.a * log(x) + self.b * log(y)


def candidate_bases(task: Task) -> list[Basis]:
    """Additive always; the discrete-log basis too when the task lives on a prime field."""
    bases = [additive_basis(task.n)]
    if task.family != "group" and task.n >= 5 and is_prime(task.n):
        bases.append(dlog_basis(task.n))
    return bases


# ---------------------------------------------------------------------------------------
# Logits on a basis: centered, summed over the level sets of u, in Fourier coordinates


def level_sums(values: np.ndarray, v: np.ndarray, levels: int) -> np.ndarray:
    """``S[t] = Σ_{inputs with v = t} values[input]``: values (N, ...) summed per level of v.

    Sorted by level once, then one ``np.add.reduceat`` over the contiguous runs.
    """
    v = np.asarray(v).reshape(-1)
    values = np.asarray(values).reshape(len(v), *np.shape(values)[1:])
    out = np.zeros((levels, *values.shape[1:]), dtype=np.float64)
    order = np.argsort(v, kind="stable")
    counts = np.bincount(v, minlength=levels)
    present = np.flatnonzero(counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[present]
    out[present] = np.add.reduceat(values[order], starts, axis=0)
    return out


@dataclass
class LogitFit:
    """The network's logits seen through one form u: everything the measures need.

    ``F[r, l] = ⟨L̃[:, :, l], e_r(u) / √m⟩`` are the coordinates of the centered logits of
    class position l along the orthonormal directions ``e_r(u(x, y)) / √m`` of the (x, y)
    plane (e_r the real Fourier basis of Z_m, each u-level has m inputs). ``energy[k]`` adds
    the rows of frequency k; ``total`` is ‖L̃‖².
    """

    form: Form
    S: np.ndarray  # (m, m): level sums of L̃ over u, per class position
    F: np.ndarray  # (m, m): Fourier coordinates along u, per class position
    energy: np.ndarray  # (m//2 + 1,)
    total: float
    class_mean: np.ndarray  # (n,) mean logit of each class over the grid

    @property
    def share(self) -> np.ndarray:
        return self.energy / max(self.total, 1e-30)


def fit_form(logits: np.ndarray, form: Form) -> LogitFit:
    """Center the logits on the form's basis grid and take their Fourier coordinates along u."""
    basis, m = form.basis, form.basis.m
    on_grid = basis.reindex(logits, axes=(0, 1))  # (m, m, n): rows and columns by position
    class_mean = on_grid.mean(axis=(0, 1))
    L = basis.reindex(on_grid - class_mean, axes=(2,))  # (m, m, m): L̃ on positions
    S = level_sums(L.reshape(m * m, m), form.u().ravel(), m)
    B, freq, _ = fourier_basis(m)
    F = B @ S / np.sqrt(m)
    energy = np.bincount(freq, weights=(F**2).sum(axis=1), minlength=m // 2 + 1)
    energy[0] = 0.0  # the constant direction is the class mean, already removed
    return LogitFit(form, S, F, energy, float((L**2).sum()), class_mean)


def choose_form(logits: np.ndarray, bases: list[Basis]) -> LogitFit:
    """The basis and form whose u explains the most logit variance.

    ``Σ_k energy[k] / ‖L̃‖²`` is the share of the logits that is a function of (u, c) —
    the correlation ratio of the logits over the level sets of u. x + y and −x − y have the
    same level sets, so the sign is settled afterwards by the cosine model (:func:`alpha`).
    """
    fits = [fit_form(logits, Form(b, 1, s)) for b in bases for s in (1, -1)]
    best = max(fits, key=lambda f: f.energy.sum() / max(f.total, 1e-30))
    key = key_frequencies(best)
    flipped = fit_form(logits, Form(best.form.basis, -1, -best.form.b))
    return max((best, flipped), key=lambda f: fve(f, alpha(f, key), key))


def key_frequencies(fit: LogitFit, threshold: float = KEY_SHARE) -> list[int]:
    """Frequencies whose two directions cos/sin(ω_k u) hold ≥ ``threshold`` of ‖L̃‖², largest first."""
    share = fit.share
    ks = [k for k in np.argsort(-share) if k > 0 and share[k] >= threshold]
    return [int(k) for k in ks]


def embedding_key_frequencies(share: np.ndarray, exclude: list[int]) -> list[int]:
    """Frequencies the embedding concentrates on (≥ :data:`EMBED_KEY_FACTOR` × the uniform
    share 1/⌊m/2⌋) that the logit rule missed, largest first.

    Why both rules: a grokked network can put nearly all of its *logit* variance on one
    frequency k₁ while its embedding still carries a second one k₂ in earnest (a seed at
    p = 97: 98.7% of ‖L̃‖² on k₁ = 31, but 23% of ‖W_E‖² on k₂ = 45). cos(ω₁(u − c)) alone
    has near-ties (every c with ω₁(u − c) ≈ 0 mod 2π), and the 0.6% of variance on k₂ is what
    breaks them: leaving it out makes the restricted loss 2.6 nats instead of 0.001.
    A random embedding spreads evenly, so no frequency comes near 4× the uniform share.
    """
    uniform = 1.0 / max(len(share) - 1, 1)
    ks = [k for k in np.argsort(-share) if k > 0 and share[k] >= EMBED_KEY_FACTOR * uniform]
    return [int(k) for k in ks if int(k) not in exclude]


def alpha(fit: LogitFit, key: list[int]) -> np.ndarray:
    """Least-squares α_k of ``L̃ ≈ Σ_k α_k cos(ω_k(u − c))``.

    ``α_k = ⟨L̃, cos(ω_k(u − c))⟩ / ‖cos(ω_k(u − c))‖²`` with the inner product over all
    inputs and classes: ``Σ_{u,c} S[u, c] cos(ω_k(u − c))`` over ``m · Σ_{u,c} cos²(ω_k(u − c))``.
    """
    m = fit.form.basis.m
    t = np.arange(m)
    d = t[:, None] - t[None, :]  # u − c on positions
    out = []
    for k in key:
        wave = np.cos(omega(k, m) * d)
        out.append((fit.S * wave).sum() / (m * (wave**2).sum()))
    return np.asarray(out)


def fve(fit: LogitFit, alphas: np.ndarray, key: list[int]) -> float:
    """Fraction of variance explained: ``Σ_k α_k² ‖cos(ω_k(u − c))‖² / ‖L̃‖²`` (waves are orthogonal)."""
    m = fit.form.basis.m
    norm2 = np.array([m**3 / (1 if 2 * k == m else 2) for k in key])
    return float((alphas**2 * norm2).sum() / max(fit.total, 1e-30)) if key else 0.0


# ---------------------------------------------------------------------------------------
# Restricted and excluded loss


def key_projection(fit: LogitFit, key: list[int], n: int) -> np.ndarray:
    """``P_K L̃`` on the full (n, n, n) grid of inputs and classes, zero off the basis grid.

    In u-coordinates ``P_K L̃[u, l] = Σ_{r of frequency in K} e_r(u) F[r, l] / √m``: two rows
    (cos, sin) per key frequency. Read back at u(x, y) for every input.
    """
    basis, m = fit.form.basis, fit.form.basis.m
    B, freq, _ = fourier_basis(m)
    rows = np.isin(freq, key)
    R = B[rows].T @ fit.F[rows] / np.sqrt(m)  # (m u-values, m class positions)
    full = np.zeros((n, n, n))
    on_grid = R[fit.form.u()]  # (m, m, m): inputs on positions, classes on positions
    r = basis.residue
    full[np.ix_(r, r, r)] = on_grid
    return full


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean of ``−log softmax(logits)[label]`` over the rows (logits (N, n), labels (N,))."""
    if len(labels) == 0:
        return float("nan")
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels].mean())


def grid_mask(basis: Basis, n: int) -> np.ndarray:
    """(n, n) inputs the basis covers: all in the additive basis, x ≠ 0 and y ≠ 0 in dlog."""
    mask = np.zeros((n, n), bool)
    mask[np.ix_(basis.residue, basis.residue)] = True
    return mask


def restricted_excluded(
    logits: np.ndarray, task: Task, train: np.ndarray, fit: LogitFit, key: list[int]
) -> tuple[float, float]:
    """(restricted loss over all inputs, excluded loss over the training pairs).

    restricted logits = ``mean_c + P_K L̃`` (only the key directions survive);
    excluded logits   = ``L − P_K L̃``     (the key directions removed).
    Inputs the basis does not cover (x = 0 or y = 0 in the dlog basis) are left out of both.
    """
    n = task.n
    P = key_projection(fit, key, n)
    cover = grid_mask(fit.form.basis, n) & task.domain
    restricted = fit.class_mean + P
    excluded = logits - P
    labels = task.table
    r = cross_entropy(restricted[cover], labels[cover])
    e = cross_entropy(excluded[cover & train], labels[cover & train])
    return r, e


# ---------------------------------------------------------------------------------------
# Embedding and neurons


def embedding_share(embedding: np.ndarray, basis: Basis) -> np.ndarray:
    """Each frequency's share of the centered embedding's squared norm, k = 0 … ⌊m/2⌋.

    ``embedding`` is (n, d), one row per symbol in residue order (x and y embeddings side
    by side when a model has two). The mean row is removed first: a constant offset carries
    no information about x.
    """
    E = basis.reindex(embedding[: basis.n], axes=(0,))
    E = E - E.mean(axis=0)
    energy = spectrum(E, axis=0)
    return energy / max(energy.sum(), 1e-30)


def frequencies_for_mass(share: np.ndarray, mass: float = EMBED_MASS) -> int:
    """How many of the largest frequency shares it takes to reach ``mass`` of the total."""
    return int(np.searchsorted(np.cumsum(np.sort(share)[::-1]), mass - 1e-12) + 1)


def neuron_frequencies(acts: np.ndarray, basis: Basis) -> tuple[np.ndarray, np.ndarray]:
    """Each neuron's dominant frequency and the share of its variance that frequency explains.

    ``acts`` is (n, n, D): neuron activations on every input (x, y). On the basis grid the
    neuron is centered and split by 2-D Fourier energy ``E[k_x, k_y]``; frequency k explains
    ``E[k, 0] + E[0, k] + E[k, k]`` — the terms cos/sin(ω_k x), cos/sin(ω_k y) and their
    products, which is all a neuron computing ``ReLU(cos ω_k x + cos ω_k y + …)`` needs.
    Returns (freq (D,), share (D,)); a dead neuron (no variance) gets frequency 0, share 0.
    """
    A = basis.reindex(acts, axes=(0, 1))
    A = A - A.mean(axis=(0, 1))
    m, h = basis.m, basis.m // 2 + 1
    # one real FFT: k_y = 0 … ⌊m/2⌋ kept, each bin 0 < k_y < m/2 standing for ±k_y too
    half = np.abs(np.fft.rfft2(A, axes=(0, 1))) ** 2 / (m * m)  # (m, h, D)
    weight = np.where((np.arange(h) == 0) | (2 * np.arange(h) == m), 1.0, 2.0)
    E = fold(half * weight[None, :, None], 0)  # (h, h, D): E[k_x, k_y] as in spectrum_2d
    total = E.sum(axis=(0, 1))
    share = np.zeros((h, A.shape[2]))
    for k in range(1, h):
        share[k] = E[k, 0] + E[0, k] + E[k, k]
    share = share / np.maximum(total, 1e-30)
    freq = share.argmax(axis=0)
    best = share.max(axis=0)
    dead = total <= 1e-12 * max(total.max(), 1e-30)
    return np.where(dead, 0, freq), np.where(dead, 0.0, best)


# ---------------------------------------------------------------------------------------
# The circuit as a program


def circuit_predictions(
    basis: Basis, form: Form, key: list[int], alphas: np.ndarray, zero_class: int | None
) -> np.ndarray:
    """(n, n) predictions of ``argmax_c Σ_k α_k cos(ω_k(u(x, y) − c))``.

    The argmax depends on u alone, so it is computed once per value of u. Inputs off the
    basis grid (0 in the dlog basis) get ``zero_class``.
    """
    n, m = basis.n, basis.m
    t = np.arange(m)
    if key:
        phase = omega(np.asarray(key), m)[:, None, None] * (t[:, None] - t[None, :])
        score = np.tensordot(alphas, np.cos(phase), axes=1)  # (u, c position)
        best = basis.residue[score.argmax(axis=1)]
    else:
        best = np.full(m, zero_class if zero_class is not None else 0)
    pred = np.full((n, n), -1 if zero_class is None else zero_class, dtype=np.int64)
    r = basis.residue
    pred[np.ix_(r, r)] = best[form.u()]
    return pred


def elias_gamma_bits(k: int) -> int:
    """Length of the Elias gamma code of a positive integer: 2⌊log2 k⌋ + 1."""
    return 2 * int(math.floor(math.log2(k))) + 1


def quantize(alphas: np.ndarray, q: int) -> np.ndarray:
    """α_k rounded to q bits of magnitude relative to the largest |α| (plus a sign bit)."""
    if len(alphas) == 0:
        return alphas
    scale = (2**q - 1) / max(np.abs(alphas).max(), 1e-30)
    return np.round(alphas * scale) / scale


def circuit_bits(n_bases: int, m: int, n_key: int, q: int, zero_rule: bool, n: int) -> float:
    """Description length of the extracted circuit, in bits, under this code:

    * which basis: log2(number of candidate bases) (additive, or discrete-log at a prime);
    * which form u = ±x ± y: 2 bits;
    * how many key frequencies K: Elias gamma of K + 1;
    * which ones: log2 C(⌊m/2⌋, K);
    * the coefficient precision q: Elias gamma of q; then each α_k as a sign and q bits of
      magnitude relative to the largest (q is the smallest precision that leaves the
      circuit's predictions unchanged);
    * the dlog basis only: the class predicted when x or y is 0 (0 has no log): log2 n.

    The fixed parts every circuit shares (waves, products, argmax) cost nothing.
    """
    bits = math.log2(n_bases) + 2 + elias_gamma_bits(n_key + 1)
    bits += math.log2(math.comb(m // 2, n_key))
    if n_key:
        bits += elias_gamma_bits(q) + n_key * (q + 1)
    if zero_rule:
        bits += math.log2(n)
    return float(bits)


def circuit_sympy(form: Form, key: list[int], alphas: np.ndarray) -> sympy.Expr:
    """``argmax(Σ_k α_k cos(2πk/m (u − c)), c)`` with α rounded to 3 decimals."""
    c = sympy.Symbol("c")
    u = form.sympy_u()
    m = form.basis.m
    terms = [
        sympy.Float(round(float(a), 3), 4) * sympy.cos(2 * sympy.pi * k / m * (u - c))
        for k, a in zip(key, alphas, strict=True)
    ]
    return sympy.Function("argmax")(sympy.Add(*terms), c)


def circuit_graph(form: Form, key: list[int], alphas: np.ndarray) -> nx.DiGraph:
    """inputs → frequency features → products → logits → argmax, edges child → parent.

    For each key frequency k: the features cos/sin(ω_k x) and cos/sin(ω_k y) (of log x and
    log y in the dlog basis); the products cos(ω_k u) = cos ω_k x̃ cos ω_k ỹ − sin sin and
    sin(ω_k u) = sin cos + cos sin (with signs from the form); then the logit node
    Σ_k α_k cos(ω_k(u − c)) and the argmax over c.
    """
    g = nx.DiGraph()
    lx, ly = ("x", "y") if form.basis.kind == "additive" else ("log x", "log y")
    g.add_node("x", label="x", kind="input")
    g.add_node("y", label="y", kind="input")
    g.add_node("logits", label="Σ_k α_k cos(ω_k(u − c))", kind="logits", u=form.text)
    g.add_node("argmax", label="argmax_c", kind="output")
    g.add_edge("logits", "argmax")
    for k, a in zip(key, alphas, strict=True):
        for var, lab in (("x", lx), ("y", ly)):
            for fn in ("cos", "sin"):
                node = f"{fn}{k}({var})"
                g.add_node(node, label=f"{fn}(ω_{k} {lab})", kind="feature", freq=k)
                g.add_edge(var, node)
        for fn in ("cos", "sin"):
            node = f"{fn}{k}(u)"
            g.add_node(node, label=f"{fn}(ω_{k} u)", kind="product", freq=k)
            for src in ("cos", "sin"):
                g.add_edge(f"{src}{k}(x)", node)
                g.add_edge(f"{src}{k}(y)", node)
            g.add_edge(node, "logits", alpha=float(a))
    return g


@dataclass(frozen=True)
class Circuit:
    """The circuit extracted from one network: what it computes and how well that holds.

    Losses are cross-entropies in nats; shares and scores are in [0, 1]. ``frequency_share``
    and ``embedding_share`` are indexed by frequency k = 0 … ⌊m/2⌋.
    """

    basis: str  # "additive" | "dlog"
    g: int  # primitive root of the dlog basis (0 for additive)
    m: int  # order of the cyclic group analysed
    form: str  # u, e.g. "x + y"
    key_frequencies: list[int]
    alpha: list[float]
    fve: float
    restricted_loss: float
    excluded_loss: float
    full_loss: float  # the network's own loss over the same inputs as the restricted loss
    train_loss: float
    chance_loss: float  # log n
    faithfulness: float
    bits: float
    quant_bits: int
    zero_class: int | None
    frequency_share: list[float]  # share of ‖L̃‖² in cos/sin(ω_k u), per k
    embedding_share: list[float] = field(default_factory=list)  # per k; empty without embedding
    key_embedding_share: float = float("nan")
    frequencies_for_90: int = 0
    neuron_layer: str | None = None
    neuron_clusters: dict[str, int] = field(default_factory=dict)  # k → neurons (0: other)
    neuron_key_fraction: float = float("nan")  # neurons whose dominant frequency is key
    neuron_mean_share: float = float("nan")  # mean share explained by the dominant frequency
    neuron_frequency: list[int] = field(default_factory=list)  # per neuron (0: dead)
    neuron_share: list[float] = field(default_factory=list)  # per neuron
    expression: str = ""

    @property
    def found(self) -> bool:
        """A compact circuit: some key frequency, and its argmax agrees with the network."""
        return bool(self.key_frequencies) and self.faithfulness >= FAITHFUL

    def form_obj(self) -> Form:
        kind = (
            Basis("additive", self.m)
            if self.basis == "additive"
            else Basis("dlog", self.m + 1, self.g)
        )
        a, b = _FORM_OF_TEXT[self.form]
        return Form(kind, a, b)

    def to_sympy(self) -> sympy.Expr:
        return circuit_sympy(self.form_obj(), self.key_frequencies, np.asarray(self.alpha))

    def dag(self) -> nx.DiGraph:
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

    def to_json(self) -> dict:
        return finite_json(asdict(self))

    @classmethod
    def from_json(cls, data: dict) -> Circuit:
        data = {
            k: (float("nan") if v is None and k in _FLOAT_FIELDS else v) for k, v in data.items()
        }
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


FAITHFUL = 0.9  # a circuit whose argmax agrees with the network on < 90% of inputs is not one
_FORM_OF_TEXT = {
    **{Form(Basis("additive", 2), a, b).text: (a, b) for a, b in FORMS},
    **{Form(Basis("dlog", 3, 2), a, b).text: (a, b) for a, b in FORMS},
}
_FLOAT_FIELDS = {"key_embedding_share", "neuron_key_fraction", "neuron_mean_share"}


def finite_json(value):
    """JSON has no NaN: write it as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite_json(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------
# Extraction


def circuit_program(
    logits: np.ndarray, task: Task, fit: LogitFit, key: list[int], alphas: np.ndarray
) -> tuple[int | None, int, float]:
    """The circuit as a program: (zero_class, quantization bits q, faithfulness).

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
    return zero_class, q, float((exact == net_pred)[task.domain].mean())


def extract_circuit(
    logits: np.ndarray,
    task: Task,
    train: np.ndarray,
    embedding: np.ndarray | None = None,
    neurons: np.ndarray | None = None,
    neuron_layer: str | None = None,
    fit: LogitFit | None = None,
    with_expression: bool = True,
) -> Circuit:
    """Extract the Fourier circuit from a network's logits on all inputs.

    ``logits`` is (n, n, n): ``logits[x, y, c]`` for every input, valid or not; ``train`` the
    (n, n) mask of training pairs; ``embedding`` (n, d) the token embedding (optional);
    ``neurons`` (n, n, D) MLP activations on every input (optional). ``fit`` fixes the basis
    and form (e.g. those of the final checkpoint, for progress measures); by default they
    are chosen to explain the most logit variance. ``with_expression=False`` skips building
    the sympy text (the slowest part, not needed per checkpoint).
    """
    logits = np.asarray(logits, dtype=np.float64)
    bases = candidate_bases(task)
    fit = fit or choose_form(logits, bases)
    form, basis, n = fit.form, fit.form.basis, task.n
    key = key_frequencies(fit)
    share = None
    if embedding is not None:
        share = embedding_share(np.asarray(embedding, dtype=np.float64), basis)
        key += embedding_key_frequencies(share, exclude=key)
    alphas = alpha(fit, key)
    restricted, excluded = restricted_excluded(logits, task, train, fit, key)
    cover = grid_mask(basis, n) & task.domain
    labels = task.table
    zero_class, q, faithful = circuit_program(logits, task, fit, key, alphas)

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
        train_loss=cross_entropy(logits[cover & train], labels[cover & train]),
        chance_loss=math.log(n),
        faithfulness=faithful,
        bits=circuit_bits(len(bases), basis.m, len(key), q, zero_class is not None, n),
        quant_bits=q,
        zero_class=zero_class,
        frequency_share=[float(s) for s in fit.share],
        embedding_share=emb_share,
        key_embedding_share=key_emb,
        frequencies_for_90=n90,
        neuron_layer=neuron_layer if neurons is not None else None,
        neuron_clusters=clusters,
        neuron_key_fraction=key_frac,
        neuron_mean_share=mean_share,
        neuron_frequency=[] if neurons is None else [int(k) for k in nf],
        neuron_share=[] if neurons is None else [round(float(v), 4) for v in ns],
        expression=str(circuit_sympy(form, key, alphas)) if with_expression else "",
    )
