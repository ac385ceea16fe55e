"""The real irreducible representations of a finite group, computed from its table.

A network that learns to compose group elements represents them, Chughtai et al. 2023
find, by matrices of the group's irreducible representations ρ: ``logit(x, y, c) ≈
Σ_ρ α_ρ χ_ρ(x·y·c⁻¹)`` with χ_ρ = tr ρ the character. For Z_p those representations are
the Fourier modes (χ_k(t) = e^{2πikt/p}), so the Fourier analysis of modular addition is
the special case of this one. Nothing here is typed in: everything comes from the
multiplication table.

1. **Conjugacy classes** C_1 … C_r: the orbits of g ↦ h·g·h⁻¹.
2. **Characters** (Burnside–Dixon). The class sums multiply as
   ``C_i C_j = Σ_k c_ijk C_k`` with c_ijk = #{(x, y) ∈ C_i × C_j : x·y = z_k} for a fixed
   z_k ∈ C_k. For every irreducible character χ the numbers ω_j = |C_j| χ(g_j) / χ(1) satisfy
   ω_i ω_j = Σ_k c_ijk ω_k: ω is a common eigenvector of the matrices A_i[j, k] = c_ijk, so
   the eigenvectors of one random combination Σ r_i A_i are the r characters, up to scale.
   χ(1) then follows from Σ_g |χ(g)|² = |G|.
3. **Real irreducible representations.** The analysis runs on real functions, so a complex
   character and its conjugate are taken together: χ_R = χ + χ̄ (for Z_p: 2cos, the k-th
   frequency); a real character is its own. The functions on G that are matrix entries of
   ρ form its isotypic subspace, with orthogonal projector
   ``P_ρ[g, g′] = (d/|G|) χ_R(g′⁻¹·g)`` (d the complex dimension); its dimension is d² for a
   real character and 2d² for a conjugate pair, and the subspaces of all ρ together span
   every function on G (Σ d² = |G|).

Names: "trivial", "sign", and for permutation groups "standard" (χ = fixed points − 1) and
"standard ⊗ sign" where those are irreducible; the irreps of Z_m are its frequencies "k=K"
(χ(1) = 2cos(2πk/m)); the 2-dimensional irreps of D_m are
"rotation k=K" (the polygon turned k times as fast, χ(r) = 2cos(2πk/m)); otherwise
"ρ_i (dim d)".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from taskcore.groups import Group


@dataclass(frozen=True, eq=False)
class Irrep:
    """One real irreducible representation: its real character on every element, its complex
    dimension d, and whether it pairs two conjugate complex characters."""

    name: str
    dim: int  # d: the complex dimension of ρ (the matrices are d × d)
    character: np.ndarray  # (|G|,) χ_R(g), real
    paired: bool  # χ_R = χ + χ̄ for a complex χ

    @property
    def subspace_dim(self) -> int:
        """Dimension of its isotypic subspace of functions on G: d², or 2d² when paired."""
        return (2 if self.paired else 1) * self.dim**2


def conjugacy_classes(group: Group) -> list[np.ndarray]:
    """The classes as sorted index arrays, the identity's first, then by size and index."""
    n, mul, inv = group.n, group.mul, group.inverse
    label = np.full(n, -1)
    classes = []
    h = np.arange(n)
    for g in range(n):
        if label[g] < 0:
            members = np.unique(mul[mul[h, g], inv[h]])  # {h g h⁻¹}
            label[members] = len(classes)
            classes.append(members)
    first = next(i for i, c in enumerate(classes) if group.identity in c)
    classes.insert(0, classes.pop(first))
    return classes


def _class_constants(group: Group, classes: list[np.ndarray]) -> np.ndarray:
    """c[i, j, k] = #{(x, y) ∈ C_i × C_j : x·y = z_k}, z_k the first element of C_k."""
    r = len(classes)
    label = np.empty(group.n, dtype=np.int64)
    for i, c in enumerate(classes):
        label[c] = i
    c = np.zeros((r, r, r))
    for k, ck in enumerate(classes):
        z = ck[0]
        # x·y = z ⇔ y = x⁻¹·z: for each x, the class of x and of its partner y
        x = np.arange(group.n)
        y = group.mul[group.inverse[x], z]
        np.add.at(c, (label[x], label[y], k), 1.0)
    return c


@cache
def irreps(group: Group) -> tuple[Irrep, ...]:
    """The group's real irreducible representations, trivial first (see module docstring)."""
    classes = conjugacy_classes(group)
    r, n = len(classes), group.n
    sizes = np.array([len(c) for c in classes], dtype=np.float64)
    A = _class_constants(group, classes)  # A[i] is the matrix of multiplication by C_i
    weights = np.random.default_rng(0x1DE4).standard_normal(r)
    _, vectors = np.linalg.eig(np.tensordot(weights, A, axes=1))  # columns: ω up to scale
    chars = []
    for col in vectors.T:
        omega = col / col[0]  # ω(identity class) = 1
        degree = np.sqrt(n / np.sum(np.abs(omega) ** 2 / sizes))
        d = int(round(degree.real))
        chi_classes = omega * d / sizes  # χ(g_j) = ω_j χ(1) / |C_j|
        chi = np.empty(n, dtype=np.complex128)
        for j, c in enumerate(classes):
            chi[c] = chi_classes[j]
        chars.append((d, chi))
    out: list[Irrep] = []
    used = np.zeros(len(chars), bool)
    for i, (d, chi) in enumerate(chars):
        if used[i]:
            continue
        used[i] = True
        if np.allclose(chi.imag, 0, atol=1e-6):
            out.append(Irrep("", d, chi.real.copy(), False))
            continue
        partner = next(j for j, (_, other) in enumerate(chars)
                       if not used[j] and np.allclose(other, chi.conj(), atol=1e-6))  # fmt: skip
        used[partner] = True
        out.append(Irrep("", d, 2 * chi.real, True))
    out.sort(key=lambda ir: (ir.subspace_dim, -ir.character.sum(), tuple(np.round(ir.character, 6))))
    return tuple(_named(group, out))


def _named(group: Group, reps: list[Irrep]) -> list[Irrep]:
    """Give each irrep its name (module docstring)."""
    P = np.array(group.elements)
    fixed = (P == np.arange(P.shape[1])).sum(axis=1).astype(np.float64)
    parity = np.array([_sign(p) for p in group.elements], dtype=np.float64)
    known = {"trivial": np.ones(group.n), "sign": parity, "standard": fixed - 1,
             "standard ⊗ sign": (fixed - 1) * parity}  # fmt: skip
    rotation = 1 if group.name.startswith("D") else None  # D_m: element 1 is r, the turn by 2π/m
    named, counter = [], 0
    for rep in reps:
        if group.name.startswith("Z"):  # Z_m: χ(1) = 2cos(2πk/m), or ±1 for k = 0, m/2
            half = rep.character[1] / (2 if rep.paired else 1)
            k = int(round(np.arccos(np.clip(half, -1, 1)) * group.n / (2 * np.pi)))
            named.append(Irrep(f"k={k}", rep.dim, rep.character, rep.paired))
            continue
        name = next((k for k, v in known.items() if np.allclose(rep.character, v, atol=1e-6)), "")
        if not name and rotation is not None and rep.dim == 2:
            # χ(r) = 2 cos(2πk/m): the 2-d irrep that turns the polygon k times as fast
            k = int(round(np.arccos(np.clip(rep.character[rotation] / 2, -1, 1)) * group.n / (4 * np.pi)))
            name = f"rotation k={k}"
        if not name:
            counter += 1
            name = f"ρ{counter} (dim {rep.dim})"
        named.append(Irrep(name, rep.dim, rep.character, rep.paired))
    return named


def _sign(perm: tuple[int, ...]) -> int:
    """+1 for an even permutation, −1 for an odd one (by counting cycles)."""
    seen, sign = set(), 1
    for start in range(len(perm)):
        length, i = 0, start
        while i not in seen:
            seen.add(i)
            i = perm[i]
            length += 1
        if length and length % 2 == 0:
            sign = -sign
    return sign


def projector(group: Group, rep: Irrep) -> np.ndarray:
    """P_ρ[g, g′] = (d/|G|) χ_R(g′⁻¹·g): the orthogonal projection onto ρ's isotypic subspace."""
    g = np.arange(group.n)
    quotient = group.mul[group.inverse[g][None, :], g[:, None]]  # [g, g′] → g′⁻¹·g
    return rep.dim / group.n * rep.character[quotient]


def isotypic_basis(group: Group, rep: Irrep) -> np.ndarray:
    """(|G|, subspace_dim): an orthonormal basis of ρ's isotypic subspace (columns)."""
    values, vectors = np.linalg.eigh(projector(group, rep))
    return vectors[:, values > 0.5]
