"""The network's logits read through a node: key irreps, the logit model with its phases,
the share of the logits that is a function of the node, and the restricted and excluded
losses.

Nanda et al. 2023 found that a transformer which groks ``x + y mod p`` computes

    logit(x, y, c) ≈ Σ_{k ∈ K} α_k χ_k(u − c),   u = x + y,   χ_k(t) = 2cos(2πkt/p),

for a handful of *key frequencies* K: it embeds each number as waves ``cos ω_k x, sin ω_k x``,
multiplies waves of x and y in the MLP to get ``cos ω_k u, sin ω_k u`` (angle addition), and
the unembedding turns those into ``cos(ω_k(u − c))``, which is largest at ``c = u``.
Chughtai et al. 2023 found the same algorithm for any group, with irreducible
representations ρ in place of frequencies: ``logit(x, y, c) ≈ Σ_ρ α_ρ χ_ρ(u·c⁻¹)``,
u = x·y. Both are one computation here, against :class:`~compare.harmonics.Harmonics`.

**The node u.** What the logits are read through is a *node*: a program value u(x, y) in
the ``--expr`` language, laid out on the positions of a :class:`~compare.basis.Basis`
(its residue in the additive basis, its discrete log in the dlog basis, the element itself
in a group). Nodes are not a fixed list: they come from the synthesized programs — each
program's value and its subexpressions in both variables (:mod:`compare.nodes`) — beside
the fixed forms ±x ± y (x·y, x/y, … in discrete logs; the group words), and each carries
its own bits under the grammar, so choosing one is part of the circuit's description
length. A network that learned x² + y² is read through u = x² + y², where the Fourier
basis of x alone sees nothing.

**The phase.** A network that computes ``x + y + 5`` through the node u = x + y writes
``cos(ω_k(u − c) + φ_k)`` with φ_k = 5ω_k: the same circuit, its output map shifted. So the
model over Z_m has a cosine *and* a sine term per key frequency,

    logit(x, y, c) ≈ Σ_{k ∈ K} α_k χ_k(t) + β_k χ'_k(t),   t = u − c,   χ'_k(t) = 2sin(ω_k t),

i.e. amplitude √(α_k² + β_k²) and phase φ_k = atan2(β_k, α_k) — or, where the phase is not
needed, α_k alone (:mod:`compare.readout` prices both and keeps the shorter). A
non-abelian group has no such phase (a shifted output is a different node, u·g).

**The fit.** Everything is computed on the inputs the node covers (in the task's domain,
u defined and with a position; classes on positions too), from the centered logits
``L̃ = L − mean_inputs L`` (one mean per class). With ``S[u, c]`` the sums of L̃ over the
inputs at node value u and ``N`` the number of inputs covered:

* **the readout** ``g(t) = (1/N) Σ_{(u, c): u·c⁻¹ = t} S[u, c]``, the mean of L̃ over the
  (input, class) pairs with u·c⁻¹ = t. Every t has exactly N such pairs (for each input,
  one class), so least squares of ``L̃ ≈ f(u·c⁻¹)`` on any orthogonal features of t is
  the projection of g on them: the coefficients need no more than g.
* **key irreps** — the ρ whose directions along u (any dependence on c) hold at least
  :data:`KEY_SHARE` of ‖L̃‖²; irreps that hold ≥ 4× their uniform share of the embedding
  join them (:func:`embedding_key_frequencies`).
* **variance explained** ``fve = N ‖g_K‖² / ‖L̃‖²`` with g_K the model (the projection of g
  on the key irreps' features: its squared norm over the N·m (input, class) pairs is
  N ‖g_K‖², and the residual is orthogonal to it), and beside it the **share of the logit
  variance that is a function of u at all**, ``Σ_u ‖S[u]‖² / N_u / ‖L̃‖²`` (N_u inputs at
  value u): the most any model read through u could explain. Their ratio says how much of
  what u can explain the model does.
* **restricted loss**: the cross-entropy over the covered inputs of ``mean_c + P_K L̃``,
  where P_K keeps the key irreps' part of each class's level means along u; **excluded
  loss**: the cross-entropy over the training pairs of ``L − P_K L̃``. A network that uses
  the circuit has restricted loss at or below its full loss, and excluded loss near chance
  (log n) — its training fit *is* the circuit. Only directions along u count, never the
  cross terms that an outer product of masks on x and y would keep; those would let the
  "restricted" logits fit memorized noise and flatter both losses.

(The functions keep the names of the Fourier case — key *frequencies* — since a frequency is
the irrep of Z_m; their lists hold irrep indices, which for Z_m are the frequencies k.)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from compare.basis import Basis, additive_basis, dlog_basis, irreps_basis
from taskcore.algebra import Algebra
from taskcore.events import (  # one definition, shared with the glossary
    EMBED_KEY_FACTOR,
    KEY_SHARE,
    BasisKind,
)
from taskcore.language import parse
from taskcore.table import Split, Task, is_prime

FORMS = {  # the fixed candidate nodes of each kind of basis, in the --expr language
    BasisKind.ADDITIVE: ("x + y", "x - y", "y - x", "-x - y"),
    BasisKind.DLOG: ("x * y", "x / y", "y / x", "inv(x * y)"),
    BasisKind.IRREPS: ("x * y", "y * x", "x * inv(y)", "inv(x) * y", "y * inv(x)", "inv(y) * x",
               "x * y * inv(x)", "inv(x) * y * x", "x * y * x", "y * x * y"),
}  # fmt: skip


# ---------------------------------------------------------------------------------------
# The node u on a basis


@dataclass(frozen=True)
class Node:
    """A program value u(x, y) the logits are read through, on basis positions.

    ``text`` is u in the --expr language, evaluated by the task's algebra on every input
    and mapped to a position of the basis: in the additive basis u = x + y is its residue;
    in the discrete-log basis u = x·y is log x + log y (and an input with u = 0 has no
    position); in a group, u = x·y·x⁻¹ is the element. ``bits`` is L(u), the node's own
    description length under the task's grammar.
    """

    basis: Basis
    text: str
    bits: float = 0.0

    def positions(self, algebra: Algebra) -> np.ndarray:
        """(n, n): the position of u(x, y) for every input, −1 where u is undefined (inv(0))
        or has no position (0 in the dlog basis)."""
        n = self.basis.n
        x, y = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        values, valid = algebra.evaluate(parse(self.text), x, y)
        return np.where(valid, self.basis.position[values], -1)

    def sympy_u(self):
        """u as sympy, on positions: the node itself, or log_g of it in the dlog basis."""
        import sympy

        from taskcore.language import to_sympy

        u = to_sympy(parse(self.text), group=self.basis.kind == BasisKind.IRREPS)
        return sympy.Function(f"log_{self.basis.g}")(u) if self.basis.kind == BasisKind.DLOG else u


def candidate_bases(task: Task) -> list[Basis]:
    """A group task: its own elements (irreps). Otherwise additive, and the discrete-log
    basis too when the task lives on a prime field."""
    if task.group is not None:
        return [irreps_basis(task.group, task.n)]
    bases = [additive_basis(task.n)]
    if task.n >= 5 and is_prime(task.n):
        bases.append(dlog_basis(task.n))
    return bases


# ---------------------------------------------------------------------------------------
# Logits seen through a node: centered, summed over the level sets of u


def level_sums(values: np.ndarray, v: np.ndarray, levels: int) -> np.ndarray:
    """``S[t] = Σ_{inputs with v = t} values[input]``: values (N, ...) summed per level of v.

    Sorted by level once, then one ``np.add.reduceat`` over the contiguous runs.
    """
    v = np.asarray(v).reshape(-1)
    values = np.asarray(values).reshape(len(v), *np.shape(values)[1:])
    out = np.zeros((levels, *values.shape[1:]), dtype=np.float64)
    if len(v) == 0:
        return out
    order = np.argsort(v, kind="stable")
    counts = np.bincount(v, minlength=levels)
    present = np.flatnonzero(counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[present]
    out[present] = np.add.reduceat(values[order], starts, axis=0)
    return out


def between_share(sums: np.ndarray, counts: np.ndarray, total: float) -> float:
    """η²: the share of a centered quantity's squared norm that is a function of a node,
    from its level sums S_u over the N_u rows at each value u — Σ_u ‖S_u‖² / N_u / total
    (each level's mean, ‖S_u / N_u‖², counted N_u times)."""
    seen = np.asarray(counts) > 0
    between = ((np.asarray(sums)[seen] ** 2).reshape(int(seen.sum()), -1).sum(axis=1)
               / np.asarray(counts)[seen]).sum()  # fmt: skip
    return float(between / total) if total > 0 else float("nan")


@dataclass(frozen=True)
class Layout:
    """Where a node puts the inputs: ``u`` (n, n) positions (−1: none); ``scope`` (n, n), the
    inputs the reading is about (the task's domain, or a part of it such as one branch of a
    conditional); ``cover``, those of them where u has a position — the model is fitted there."""

    u: np.ndarray
    scope: np.ndarray
    cover: np.ndarray


def node_layout(node: Node, task: Task, subset: np.ndarray | None = None) -> Layout:
    u = node.positions(task.algebra)
    scope = task.domain if subset is None else task.domain & subset
    return Layout(u, scope, scope & (u >= 0))


@dataclass
class LogitFit:
    """The network's logits seen through one node: everything the measures need.

    ``S[u, c]`` sums the centered logits of class position c over the covered inputs at
    node value u; ``counts[u]`` is how many inputs that is; ``energy[ρ]`` the part of ‖L̃‖²
    in irrep ρ's directions along u (the level means' energy, weighted by the mean count);
    ``total`` is ‖L̃‖² over the covered inputs and class positions.
    """

    node: Node
    layout: Layout
    S: np.ndarray  # (m, m)
    counts: np.ndarray  # (m,)
    energy: np.ndarray  # (irreps,)
    total: float
    class_mean: np.ndarray  # (n,) mean logit of each class over the covered inputs

    @property
    def harmonics(self):
        return self.node.basis.harmonics

    @property
    def covered(self) -> int:
        return int(self.counts.sum())

    @property
    def share(self) -> np.ndarray:
        return self.energy / max(self.total, 1e-30)

    @cached_property
    def readout(self) -> np.ndarray:
        """g(t), t = u·c⁻¹ on positions: the mean of L̃ over the pairs at t (module docstring)."""
        h = self.harmonics
        return level_sums(self.S.reshape(-1), h.quotient.reshape(-1), h.m) / max(self.covered, 1)

    def node_share(self) -> float:
        """The share of ‖L̃‖² that is a function of u at all (:func:`between_share`)."""
        return between_share(self.S, self.counts, self.total)


def fit_node(logits: np.ndarray, node: Node, task: Task, layout: Layout | None = None) -> LogitFit:
    """Center the logits over the node's covered inputs and measure them along u per irrep."""
    basis, m = node.basis, node.basis.m
    layout = layout or node_layout(node, task)
    rows = np.asarray(logits, dtype=np.float64)[layout.cover]  # (N, n)
    class_mean = rows.mean(axis=0) if len(rows) else np.zeros(task.n)
    L = (rows - class_mean)[:, basis.residue]  # (N, m): classes on positions
    v = layout.u[layout.cover]
    S = level_sums(L, v, m)
    counts = np.bincount(v, minlength=m).astype(np.float64)
    means = S / np.maximum(counts, 1)[:, None]
    energy = basis.harmonics.energy(means) * (counts.sum() / m)
    energy[0] = 0.0  # the constant direction is the class mean, already removed
    return LogitFit(node, layout, S, counts, energy, float((L**2).sum()), class_mean)


def key_frequencies(fit: LogitFit, threshold: float = KEY_SHARE) -> list[int]:
    """Irreps whose directions along u hold ≥ ``threshold`` of ‖L̃‖², largest first."""
    share = fit.share
    ks = [k for k in np.argsort(-share) if k > 0 and share[k] >= threshold]
    return [int(k) for k in ks]


def embedding_key_frequencies(share: np.ndarray, exclude: list[int], sizes) -> list[int]:
    """Irreps the embedding concentrates on (≥ :data:`EMBED_KEY_FACTOR` × their uniform share,
    size_ρ / (m − 1) of the non-constant functions) that the logit rule missed, largest first.

    Why both rules: a grokked network can put nearly all of its *logit* variance on one
    frequency k₁ while its embedding still carries a second one k₂ in earnest.
    cos(ω₁(u − c)) alone has near-ties (every c with ω₁(u − c) ≈ 0 mod 2π), and the little
    variance on k₂ is what breaks them: leaving it out makes the restricted loss far worse
    than the network's. A random embedding spreads evenly, so no irrep comes near 4× its
    uniform share.
    """
    share = np.asarray(share)
    sizes = np.asarray(sizes, dtype=np.float64)  # functions per irrep: ``Harmonics.sizes``
    uniform = sizes / max(sizes[1:].sum(), 1.0)
    ks = [k for k in np.argsort(-share) if k > 0 and share[k] >= EMBED_KEY_FACTOR * uniform[k]]
    return [int(k) for k in ks if int(k) not in exclude]


def key_set(fit: LogitFit, embedding_share: np.ndarray | None = None) -> list[int]:
    """The key irreps of a reading: those the logits put ≥ :data:`KEY_SHARE` on along u, then
    those the embedding concentrates on (:func:`embedding_key_frequencies`), each largest
    first."""
    key = key_frequencies(fit)
    if embedding_share is not None:
        key += embedding_key_frequencies(embedding_share, exclude=key, sizes=fit.harmonics.sizes)
    return key


def key_span(harmonics, key: list[int]) -> float:
    """The share of the non-constant functions of u that the key irreps span: Σ_K size_ρ / (m − 1).

    Near 1, keeping the key directions keeps almost everything, so the restricted loss and
    the key share cannot fail (S4's circuit uses every irrep it has)."""
    return float(sum(harmonics.sizes[r] for r in key)) / max(float(harmonics.sizes[1:].sum()), 1.0)


# ---------------------------------------------------------------------------------------
# Restricted and excluded loss


def key_projection(fit: LogitFit, key: list[int], n: int) -> np.ndarray:
    """``P_K L̃`` on the full (n, n, n) grid of inputs and classes, zero off the covered inputs.

    In u-coordinates ``P_K L̃[u, c] = P_K M[u, c]``, M the level means of L̃: the key irreps'
    part of each class's logits as a function of u, read back at u(x, y) for every input.
    """
    basis = fit.node.basis
    means = fit.S / np.maximum(fit.counts, 1)[:, None]
    R = fit.harmonics.project(means, key)  # (m u-values, m class positions)
    full = np.zeros((n, n, n))
    cover = fit.layout.cover
    block = np.zeros((int(cover.sum()), n))
    block[:, basis.residue] = R[fit.layout.u[cover]]
    full[cover] = block
    return full


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean of ``−log softmax(logits)[label]`` over the rows (logits (N, n), labels (N,))."""
    if len(labels) == 0:
        return float("nan")
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels].mean())


def restricted_excluded(
    logits: np.ndarray, task: Task, split: Split, fit: LogitFit, key: list[int]
) -> tuple[float, float]:
    """(restricted loss over the covered inputs, excluded loss over the covered training pairs).

    restricted logits = ``mean_c + P_K L̃`` (only the key directions survive), scored against
    the task's true table; excluded logits = ``L − P_K L̃`` (the key directions removed),
    scored against the training labels the network was fitted to.
    """
    P = key_projection(fit, key, task.n)
    cover = fit.layout.cover
    restricted = fit.class_mean + P[cover]
    r = cross_entropy(restricted, task.table[cover])
    on = cover[split.x_train, split.y_train]
    xs, ys = split.x_train[on], split.y_train[on]
    e = cross_entropy(logits[xs, ys] - P[xs, ys], split.out_train[on])
    return r, e
