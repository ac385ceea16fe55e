"""Harmonic analysis on a finite group: one interface, for Z_m (Fourier) and for any group.

Every circuit this project reads has the same shape: the network writes each symbol as
functions on a group G (laid out on positions 0 … m−1), keeps a few irreducible
representations ρ of G ("key" ones), and reads out ``logit(c) ≈ Σ_ρ α_ρ χ_ρ(u · c⁻¹)``
for the program's value u. For G = Z_m the irreps are the Fourier frequencies k and
χ_k(u − c) = 2cos(ω_k(u − c)); for a non-abelian group such as S5 they are matrices, and
only their characters and isotypic subspaces are needed. :class:`Harmonics` is what the
circuit code asks of a group:

* ``names``, ``dims`` — each real irrep's name and complex dimension d (index 0: trivial);
* ``sizes`` — the dimension of its isotypic subspace of functions on G (d², 2d² for a pair
  of conjugate complex characters: 2 for every Fourier frequency 0 < k < m/2);
* :meth:`energy` — ‖P_ρ a‖² of a function (along axis 0) per irrep: Parseval, they sum to ‖a‖²;
* :meth:`project` — the part of a function in the chosen irreps;
* :meth:`character` — χ_ρ on every position, and ``quotient[u, c]`` = the position of u·c⁻¹;
  :meth:`quadrature` — its phase partner where ρ has one (2sin(ω_k t) for Z_m);
* :meth:`cross_energy` — the energy of a function of two group elements per pair of irreps;
* :meth:`features` — an orthonormal basis of the chosen irreps' subspace, evaluated at
  given positions (what a linear probe of "the value of u in these irreps" reads).

:class:`Cyclic` computes all of it with FFTs (fast for any m, p up to 1024); :class:`Irreducible`
with dense projectors built by :mod:`compare.irreps` (for the small non-abelian groups).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from compare.fourier import fold, omega, spectrum
from taskcore.groups import Group


class Harmonics:
    """The interface (module docstring); subclasses fill it in."""

    m: int
    names: list[str]
    dims: list[int]
    sizes: np.ndarray

    @property
    def count(self) -> int:
        return len(self.names)

    @cached_property
    def quotient(self) -> np.ndarray:
        """(m, m): quotient[u, c] = the position of u·c⁻¹."""
        raise NotImplementedError

    def character(self, r: int) -> np.ndarray:
        raise NotImplementedError

    def quadrature(self, r: int) -> np.ndarray | None:
        """The partner of χ_ρ that shifts its phase, if ρ has one (Z_m: 2sin(ω_k t)); a
        non-abelian group's irreps have none (a shifted output there is another node)."""
        return None

    def energy(self, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def project(self, a: np.ndarray, keep: list[int]) -> np.ndarray:
        raise NotImplementedError

    def cross_energy(self, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def features(self, positions: np.ndarray, keep: list[int]) -> np.ndarray:
        raise NotImplementedError


class Cyclic(Harmonics):
    """Z_m: the irreps are the frequencies k = 0 … ⌊m/2⌋ (cos and sin of ω_k t together)."""

    def __init__(self, m: int):
        self.m = m
        self.names = [f"k={k}" for k in range(m // 2 + 1)]
        self.dims = [1] * (m // 2 + 1)
        k = np.arange(m // 2 + 1)
        self.sizes = np.where((k == 0) | (2 * k == m), 1, 2)

    @cached_property
    def quotient(self) -> np.ndarray:
        t = np.arange(self.m)
        return (t[:, None] - t[None, :]) % self.m

    def character(self, r: int) -> np.ndarray:
        """χ_k(t) = e^{iω_k t} + e^{−iω_k t} = 2cos(ω_k t) (1 and cos(πt) for k = 0, m/2)."""
        wave = np.cos(omega(r, self.m) * np.arange(self.m))
        return wave * (2.0 if self.sizes[r] == 2 else 1.0)

    def quadrature(self, r: int) -> np.ndarray | None:
        """χ'_k(t) = 2sin(ω_k t): with χ_k it writes any wave of frequency k, A·cos(ω_k t − φ).
        None at k = 0 and k = m/2, where the sine vanishes on Z_m."""
        if self.sizes[r] != 2:
            return None
        return 2.0 * np.sin(omega(r, self.m) * np.arange(self.m))

    def energy(self, a: np.ndarray) -> np.ndarray:
        return spectrum(a, axis=0)

    def project(self, a: np.ndarray, keep: list[int]) -> np.ndarray:
        a = np.asarray(a, dtype=np.float64)
        coef = np.fft.rfft(a, axis=0)
        mask = np.zeros(self.m // 2 + 1, bool)
        mask[list(keep)] = True
        coef[~mask] = 0
        return np.fft.irfft(coef, n=self.m, axis=0)

    def cross_energy(self, a: np.ndarray) -> np.ndarray:
        """E[k_x, k_y, …] of a[x, y, …] (m, m, D), as in :func:`compare.fourier.spectrum_2d`
        but one real FFT and per trailing index."""
        m, h = self.m, self.m // 2 + 1
        half = np.abs(np.fft.rfft2(np.asarray(a, np.float64), axes=(0, 1))) ** 2 / (m * m)
        weight = np.where((np.arange(h) == 0) | (2 * np.arange(h) == m), 1.0, 2.0)
        return fold(half * weight[None, :, None], 0)  # (h, h, D)

    def features(self, positions: np.ndarray, keep: list[int]) -> np.ndarray:
        phase = omega(np.asarray(keep), self.m)[None, :] * np.asarray(positions)[:, None]
        return np.concatenate([np.cos(phase), np.sin(phase)], axis=1)


class Irreducible(Harmonics):
    """Any finite group, through its real irreducible representations (:mod:`compare.irreps`)."""

    def __init__(self, group: Group):
        from compare.irreps import irreps, isotypic_basis

        self.group = group
        self.m = group.n
        self.irreps = irreps(group)
        self.names = [r.name for r in self.irreps]
        self.dims = [r.dim for r in self.irreps]
        self.sizes = np.array([r.subspace_dim for r in self.irreps])
        self.bases = [isotypic_basis(group, r) for r in self.irreps]  # (m, size) each

    @cached_property
    def quotient(self) -> np.ndarray:
        g = np.arange(self.m)
        return self.group.mul[g[:, None], self.group.inverse[g][None, :]]

    def character(self, r: int) -> np.ndarray:
        return self.irreps[r].character

    def energy(self, a: np.ndarray) -> np.ndarray:
        a = np.asarray(a, dtype=np.float64).reshape(self.m, -1)
        return np.array([float(((B.T @ a) ** 2).sum()) for B in self.bases])

    def project(self, a: np.ndarray, keep: list[int]) -> np.ndarray:
        a = np.asarray(a, dtype=np.float64)
        flat = a.reshape(self.m, -1)
        out = np.zeros_like(flat)
        for r in keep:
            B = self.bases[r]
            out += B @ (B.T @ flat)
        return out.reshape(a.shape)

    def cross_energy(self, a: np.ndarray) -> np.ndarray:
        a = np.asarray(a, dtype=np.float64)  # (m, m, D)
        left = [np.einsum("xi,xyd->iyd", B, a) for B in self.bases]  # each (size_r, m, D)
        return np.array([[((np.einsum("iyd,yj->ijd", L, B)) ** 2).sum(axis=(0, 1))
                          for B in self.bases] for L in left])  # fmt: skip

    def features(self, positions: np.ndarray, keep: list[int]) -> np.ndarray:
        cols = np.concatenate([self.bases[r] for r in keep], axis=1) if keep else np.zeros((self.m, 0))
        return cols[np.asarray(positions)] * np.sqrt(self.m)
