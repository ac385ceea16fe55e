"""The network's logits read through a group's harmonics: the form u, the key irreps, the
logit model and the restricted and excluded losses.

Nanda et al. 2023 found that a transformer which groks ``x + y mod p`` computes

    logit(x, y, c) ≈ Σ_{k ∈ K} α_k χ_k(u − c),   u = x + y,   χ_k(t) = 2cos(2πkt/p),

for a handful of *key frequencies* K: it embeds each number as waves ``cos ω_k x, sin ω_k x``,
multiplies waves of x and y in the MLP to get ``cos ω_k u, sin ω_k u`` (angle addition), and
the unembedding turns those into ``cos(ω_k(u − c))``, which is largest at ``c = u``.
Chughtai et al. 2023 found the same algorithm for any group, with irreducible
representations ρ in place of frequencies: ``logit(x, y, c) ≈ Σ_ρ α_ρ χ_ρ(u·c⁻¹)``,
u = x·y. Both are one computation here, against :class:`~compare.harmonics.Harmonics`.

Everything works on the logits over *all* n² inputs, ``L[x, y, c]``, laid out on the
positions of a :class:`~compare.fourier.Basis` (additive for x + y-like tasks, discrete logs
for x·y, the group's own elements for S5), with u a *form*: x + y, x − y, y − x, −x − y (or
x·y, x/y, … in discrete logs; x·y, y·x, x·y⁻¹, x·y·x⁻¹, … in a group). With the class means
removed, ``L̃ = L − mean_{x,y} L``, and ``S[u, c]`` its sums over the inputs with that u:

* **key irreps** — the ρ whose isotypic directions along u (for Z_m: the two directions
  cos, sin(ω_k u); any dependence on c) hold at least :data:`KEY_SHARE` of ‖L̃‖². Only
  directions along u count, never the cross terms that an outer product of masks on x and
  y would keep; those would let the "restricted" logits fit memorized noise and flatter
  both losses below. Irreps that hold ≥ 4× their uniform share of the embedding join them
  (:func:`embedding_key_frequencies`).
* **the logit model**: α_ρ = ⟨L̃, χ_ρ(u·c⁻¹)⟩ / ‖χ_ρ(u·c⁻¹)‖² (least squares; characters of
  different irreps are orthogonal, so each α is fitted alone) and its fraction of variance
  explained ``fve = Σ_ρ α_ρ² ‖χ_ρ(u·c⁻¹)‖² / ‖L̃‖²``.
* **restricted loss**: the cross-entropy over all inputs of ``mean_c + P_K L̃``, where P_K
  projects onto the key irreps along u; **excluded loss**: the cross-entropy over the
  training pairs of ``L − P_K L̃``. A network that uses the circuit has restricted loss at or
  below its full loss, and excluded loss near chance (log n) — its training fit *is* the
  circuit.

(The functions keep the names of the Fourier case — key *frequencies* — since a frequency is
the irrep of Z_m; their lists hold irrep indices, which for Z_m are the frequencies k.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compare.fourier import Basis, additive_basis, dlog_basis, irreps_basis
from taskcore.algebra import Algebra
from taskcore.groups import group_by_name
from taskcore.language import parse
from taskcore.table import Split, Task, is_prime

KEY_SHARE = 0.02  # an irrep is key when its directions along u hold ≥ 2% of ‖L̃‖²
EMBED_KEY_FACTOR = 4.0  # an embedding irrep is key at ≥ 4× its uniform share
FORMS = {  # the candidate forms u(x, y) of each kind of basis, in the --expr language
    "additive": ("x + y", "x - y", "y - x", "-x - y"),
    "dlog": ("x * y", "x / y", "y / x", "inv(x * y)"),
    "irreps": ("x * y", "y * x", "x * inv(y)", "inv(x) * y", "y * inv(x)", "inv(y) * x",
               "x * y * inv(x)", "inv(x) * y * x", "x * y * x", "y * x * y"),
}  # fmt: skip


# ---------------------------------------------------------------------------------------
# The form u = a·x + b·y on a basis


@dataclass(frozen=True)
class Form:
    """The program value u(x, y) the logits are read through, on basis positions.

    ``text`` is u in the --expr language, evaluated on the symbols at positions (i, j) and
    mapped back to a position: in the additive basis u = x + y is i + j; in the
    discrete-log basis u = x·y is log x + log y; in a group, u = x·y·x⁻¹ is what it says.
    """

    basis: Basis
    text: str

    def u(self) -> np.ndarray:
        """The (m, m) table of u over positions."""
        basis = self.basis
        r = basis.residue
        x, y = np.meshgrid(r, r, indexing="ij")
        if basis.kind == "irreps":
            algebra = Algebra(basis.n, group_by_name(basis.group))
        else:
            algebra = Algebra(basis.n)
        return basis.position[algebra.values(parse(self.text), x, y)]

    def sympy_u(self):
        import sympy

        from taskcore.language import to_sympy

        if self.basis.kind != "dlog":
            return to_sympy(parse(self.text), group=self.basis.kind == "irreps")
        a, b = {"x * y": (1, 1), "x / y": (1, -1), "y / x": (-1, 1), "inv(x * y)": (-1, -1)}[self.text]
        log = sympy.Function(f"log_{self.basis.g}")
        x, y = sympy.symbols("x y")
        return a * log(x) + b * log(y)


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

    ``S[u, c]`` sums the centered logits of class position c over the inputs with that u;
    ``energy[ρ] = ‖P_ρ S‖² / m`` is the part of ‖L̃‖² in irrep ρ's directions along u (each
    u-level has m inputs); ``total`` is ‖L̃‖².
    """

    form: Form
    S: np.ndarray  # (m, m): level sums of L̃ over u, per class position
    energy: np.ndarray  # (irreps,)
    total: float
    class_mean: np.ndarray  # (n,) mean logit of each class over the grid

    @property
    def harmonics(self):
        return self.form.basis.harmonics

    @property
    def share(self) -> np.ndarray:
        return self.energy / max(self.total, 1e-30)


def fit_form(logits: np.ndarray, form: Form) -> LogitFit:
    """Center the logits on the form's basis grid and measure them along u per irrep."""
    basis, m = form.basis, form.basis.m
    on_grid = basis.reindex(logits, axes=(0, 1))  # (m, m, n): rows and columns by position
    class_mean = on_grid.mean(axis=(0, 1))
    L = basis.reindex(on_grid - class_mean, axes=(2,))  # (m, m, m): L̃ on positions
    S = level_sums(L.reshape(m * m, m), form.u().ravel(), m)
    energy = basis.harmonics.energy(S) / m
    energy[0] = 0.0  # the constant direction is the class mean, already removed
    return LogitFit(form, S, energy, float((L**2).sum()), class_mean)


def choose_form(logits: np.ndarray, bases: list[Basis]) -> LogitFit:
    """The basis and form whose logit model explains the most variance.

    Each candidate u is fitted and its key irreps' model scored by its variance explained
    (u and its inverse, x + y and −x − y, have the same level sets and the same energy;
    the character model tells them apart by where it puts the peak).
    """
    fits = [fit_form(logits, Form(b, text)) for b in bases for text in FORMS[b.kind]]

    def score(f: LogitFit) -> tuple[float, float]:
        key = key_frequencies(f)
        return fve(f, alpha(f, key), key), f.energy.sum() / max(f.total, 1e-30)

    return max(fits, key=score)


def key_frequencies(fit: LogitFit, threshold: float = KEY_SHARE) -> list[int]:
    """Irreps whose directions along u hold ≥ ``threshold`` of ‖L̃‖², largest first."""
    share = fit.share
    ks = [k for k in np.argsort(-share) if k > 0 and share[k] >= threshold]
    return [int(k) for k in ks]


def embedding_key_frequencies(share: np.ndarray, exclude: list[int], sizes) -> list[int]:
    """Irreps the embedding concentrates on (≥ :data:`EMBED_KEY_FACTOR` × their uniform share,
    size_ρ / (m − 1) of the non-constant functions) that the logit rule missed, largest first.

    Why both rules: a grokked network can put nearly all of its *logit* variance on one
    frequency k₁ while its embedding still carries a second one k₂ in earnest (a seed at
    p = 97: 98.7% of ‖L̃‖² on k₁ = 31, but 23% of ‖W_E‖² on k₂ = 45). cos(ω₁(u − c)) alone
    has near-ties (every c with ω₁(u − c) ≈ 0 mod 2π), and the 0.6% of variance on k₂ is what
    breaks them: leaving it out makes the restricted loss 2.6 nats instead of 0.001.
    A random embedding spreads evenly, so no irrep comes near 4× its uniform share.
    """
    share = np.asarray(share)
    sizes = np.asarray(sizes, dtype=np.float64)  # functions per irrep: ``Harmonics.sizes``
    uniform = sizes / max(sizes[1:].sum(), 1.0)
    ks = [k for k in np.argsort(-share) if k > 0 and share[k] >= EMBED_KEY_FACTOR * uniform[k]]
    return [int(k) for k in ks if int(k) not in exclude]


def character_table(fit: LogitFit, key: list[int]) -> np.ndarray:
    """(K, m, m): χ_ρ(u·c⁻¹) on (u, c) positions, for each key irrep."""
    h = fit.harmonics
    return np.stack([h.character(r)[h.quotient] for r in key]) if key else np.zeros((0,) * 3)


def alpha(fit: LogitFit, key: list[int]) -> np.ndarray:
    """Least-squares α_ρ of ``L̃ ≈ Σ_ρ α_ρ χ_ρ(u·c⁻¹)``.

    ``α_ρ = ⟨L̃, χ_ρ(u·c⁻¹)⟩ / ‖χ_ρ(u·c⁻¹)‖²`` with the inner product over all inputs and
    classes: ``Σ_{u,c} S[u, c] χ_ρ(u·c⁻¹)`` over ``m · Σ_{u,c} χ_ρ(u·c⁻¹)²``.
    """
    m = fit.form.basis.m
    chi = character_table(fit, key)
    return np.array([(fit.S * c).sum() / (m * (c**2).sum()) for c in chi])


def fve(fit: LogitFit, alphas: np.ndarray, key: list[int]) -> float:
    """Fraction of variance explained: ``Σ_ρ α_ρ² ‖χ_ρ(u·c⁻¹)‖² / ‖L̃‖²`` (characters of
    different irreps are orthogonal)."""
    if not key:
        return 0.0
    m = fit.form.basis.m
    norm2 = np.array([m * (c**2).sum() for c in character_table(fit, key)])
    return float((np.asarray(alphas) ** 2 * norm2).sum() / max(fit.total, 1e-30))


# ---------------------------------------------------------------------------------------
# Restricted and excluded loss


def key_projection(fit: LogitFit, key: list[int], n: int) -> np.ndarray:
    """``P_K L̃`` on the full (n, n, n) grid of inputs and classes, zero off the basis grid.

    In u-coordinates ``P_K L̃[u, c] = (P_K S)[u, c] / m``: the key irreps' part of each
    class's logits as a function of u, read back at u(x, y) for every input.
    """
    basis, m = fit.form.basis, fit.form.basis.m
    R = fit.harmonics.project(fit.S, key) / m  # (m u-values, m class positions)
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
    logits: np.ndarray, task: Task, split: Split, fit: LogitFit, key: list[int]
) -> tuple[float, float]:
    """(restricted loss over all valid inputs, excluded loss over the training pairs).

    restricted logits = ``mean_c + P_K L̃`` (only the key directions survive), scored against
    the task's true table; excluded logits = ``L − P_K L̃`` (the key directions removed),
    scored against the training labels the network was fitted to. Inputs the basis does not
    cover (x = 0 or y = 0 in the dlog basis) are left out of both.
    """
    n = task.n
    P = key_projection(fit, key, n)
    cover = grid_mask(fit.form.basis, n) & task.domain
    restricted = fit.class_mean + P
    r = cross_entropy(restricted[cover], task.table[cover])
    on_grid = cover[split.x_train, split.y_train]
    xs, ys = split.x_train[on_grid], split.y_train[on_grid]
    e = cross_entropy((logits - P)[xs, ys], split.out_train[on_grid])
    return r, e
