"""How a task's symbols are laid out as elements of a group before harmonic analysis.

A modular task's symbols are residues, read on Z_n in the additive basis or, for products
mod a prime, on Z_(p−1) through their discrete logs; a group task's symbols are the group's
own elements. :class:`Basis` says which, maps symbols to positions and back, and gives the
harmonic analysis (:mod:`compare.harmonics`) of the group of positions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from compare.fourier import primitive_root
from compare.harmonics import Cyclic, Harmonics, Irreducible
from taskcore.events import BasisKind
from taskcore.groups import group_by_name


@dataclass(frozen=True)
class Basis:
    """How symbols are laid out as elements of a group before harmonic analysis.

    ``kind == "additive"``: position i is the residue i, on Z_n (m = n).
    ``kind == "dlog"``: position i is the residue g^i mod p, on Z_{p−1} (m = p − 1); 0 has
    no position. ``kind == "irreps"``: the symbols are the elements of ``group`` (S5, D13…),
    position i is element i, and the analysis uses the group's irreducible representations.
    In all three, ``residue[i]`` is the symbol at position i and ``position[r]`` its inverse
    (−1 for 0 in the dlog basis). A task ``x ∘ y`` that is the group's operation becomes
    ``i · j`` on positions; ``harmonics`` is the analysis of that group
    (:mod:`compare.harmonics`).
    """

    kind: str  # "additive" | "dlog" | "irreps"
    n: int  # symbols of the task
    g: int = 0  # the primitive root, for "dlog"
    group: str | None = None  # the group, for "irreps"

    @property
    def m(self) -> int:
        """The order of the group the analysis runs over."""
        return self.n - 1 if self.kind == BasisKind.DLOG else self.n

    @cached_property
    def residue(self) -> np.ndarray:
        if self.kind != BasisKind.DLOG:
            return np.arange(self.n)
        return np.array([pow(self.g, i, self.n) for i in range(self.n - 1)], dtype=np.int64)

    @cached_property
    def position(self) -> np.ndarray:
        pos = np.full(self.n, -1, dtype=np.int64)
        pos[self.residue] = np.arange(self.m)
        return pos

    @property
    def harmonics(self):
        """The harmonic analysis of the group of positions: Fourier over Z_m, or irreps
        (one per group for the process: S6's isotypic bases take seconds to compute)."""
        return _harmonics(self.kind, self.m, self.group)

    def reindex(self, a: np.ndarray, axes: tuple[int, ...] = (0,)) -> np.ndarray:
        """``a`` read at ``residue[i]`` along each of ``axes``: from symbol order to positions."""
        for axis in axes:
            a = np.take(a, self.residue, axis=axis)
        return a


def additive_basis(n: int) -> Basis:
    return Basis(BasisKind.ADDITIVE, n)


def dlog_basis(p: int) -> Basis:
    """The discrete-log basis mod a prime p, with its smallest primitive root."""
    return Basis(BasisKind.DLOG, p, primitive_root(p))


def irreps_basis(group: str, n: int) -> Basis:
    """The elements of ``group`` (a name such as "S5") in their own order."""
    return Basis(BasisKind.IRREPS, n, group=group)


@functools.cache
def _harmonics(kind: str, m: int, group: str | None) -> Harmonics:
    return Irreducible(group_by_name(group)) if kind == BasisKind.IRREPS else Cyclic(m)
