"""The network's logits read through the Fourier basis: the form u, key frequencies, the
logit model and the restricted and excluded losses.

Nanda et al. 2023 found that a transformer which groks ``x + y mod p`` computes

    logit(x, y, c) ≈ Σ_{k ∈ K} α_k cos(ω_k (u − c)),   u = x + y,   ω_k = 2πk/p,

for a handful of *key frequencies* K: it embeds each number as waves ``cos ω_k x, sin ω_k x``,
multiplies waves of x and y in the MLP to get ``cos ω_k u, sin ω_k u`` (angle addition), and
the unembedding turns those into ``cos(ω_k(u − c))``, which is largest at ``c = u``.

Everything here works on the network's logits over *all* n² inputs, ``L[x, y, c]``, laid
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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compare.fourier import Basis, additive_basis, dlog_basis, fourier_basis, omega
from taskcore.table import Split, Task, is_prime

KEY_SHARE = 0.02  # a frequency is key when its 2 logit directions hold ≥ 2% of ‖L̃‖²
EMBED_KEY_FACTOR = 4.0  # an embedding frequency is key at ≥ 4× the uniform share
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

    def sympy_u(self):
        import sympy

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
