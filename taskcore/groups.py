"""Finite groups as tables: the symmetric groups S_k and the dihedral groups D_m.

A group task is a table too: its symbols are the group's elements, numbered 0..|G|−1, and
``mul[a, b]`` is the number of the product a·b. Every group here is a group of
permutations, so products are computed, never typed.

Indexing (documented because every group table, plot and program depends on it):

* ``S_k`` — the k! permutations of (0, …, k−1) in lexicographic order, as
  ``itertools.permutations`` lists them. Index 0 is the identity; for S5 index 119 is
  (4, 3, 2, 1, 0).
* ``Z_m`` — the rotations of an m-gon: index i is the turn by i/m (v ↦ v + i), so the
  table is addition mod m — the group whose irreducible representations are the Fourier
  modes.
* ``D_m`` — the 2m symmetries of a regular m-gon as permutations of its vertices 0..m−1:
  index i < m is the rotation r^i (vertex v ↦ v + i), index m + i is the reflection
  r^i·s (v ↦ i − v), all mod m. Index 0 is the identity.

Composition is right to left, as for functions: ``(a·b)(v) = a(b(v))``.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from functools import cache

import numpy as np

from taskcore.errors import TaskError

MAX_ORDER = 1024  # the largest group (number of symbols) a task may have


@dataclass(frozen=True, eq=False)
class Group:
    """A finite group given by its elements (as permutations) and multiplication table."""

    name: str  # "S5", "D13"
    elements: tuple[tuple[int, ...], ...]  # element i as a permutation of range(degree)
    mul: np.ndarray  # (n, n): mul[a, b] = a·b
    inverse: np.ndarray  # (n,): inverse[a] = a⁻¹
    identity: int

    @property
    def n(self) -> int:
        return len(self.elements)

    @property
    def abelian(self) -> bool:
        return bool((self.mul == self.mul.T).all())

    def power(self, a: np.ndarray, k: int) -> np.ndarray:
        """a^k for every element in ``a`` (k ≥ 0), by repeated multiplication."""
        out = np.full_like(np.asarray(a), self.identity)
        for _ in range(k):
            out = self.mul[out, a]
        return out


def _from_permutations(name: str, perms: list[tuple[int, ...]]) -> Group:
    index = {p: i for i, p in enumerate(perms)}
    P = np.array(perms)  # (n, degree)
    n, degree = P.shape
    mul = np.empty((n, n), dtype=np.int64)
    for b in range(n):
        ab = np.take_along_axis(P, np.broadcast_to(P[b], (n, degree)), axis=1)  # a(b(v))
        mul[:, b] = [index[tuple(row)] for row in ab]
    identity = index[tuple(range(degree))]
    inverse = np.argmax(mul == identity, axis=1).astype(np.int64)
    mul.setflags(write=False)
    inverse.setflags(write=False)
    return Group(name, tuple(perms), mul, inverse, identity)


@cache
def symmetric(k: int) -> Group:
    """S_k: all permutations of range(k), lexicographic order."""
    if not 2 <= k or math.factorial(k) > MAX_ORDER:
        raise TaskError(f"S{k} is not supported: use {GROUP_NAMES}")
    return _from_permutations(f"S{k}", list(itertools.permutations(range(k))))


@cache
def cyclic(m: int) -> Group:
    """Z_m: the rotations v ↦ v + i of range(m); index i is i (its table is addition mod m)."""
    if not 2 <= m <= MAX_ORDER:
        raise TaskError(f"Z{m} is not supported (need 2 ≤ m ≤ {MAX_ORDER})")
    return _from_permutations(f"Z{m}", [tuple((v + i) % m for v in range(m)) for i in range(m)])


@cache
def dihedral(m: int) -> Group:
    """D_m: the rotations r^i and reflections r^i·s of a regular m-gon (order 2m)."""
    if m < 3 or 2 * m > MAX_ORDER:
        raise TaskError(f"D{m} is not supported (need 3 ≤ m ≤ {MAX_ORDER // 2})")
    rotations = [tuple((v + i) % m for v in range(m)) for i in range(m)]
    reflections = [tuple((i - v) % m for v in range(m)) for i in range(m)]
    return _from_permutations(f"D{m}", rotations + reflections)


GROUP_NAMES = "S2…S6 (symmetric), D3…D512 (dihedral) or Z2…Z1024 (cyclic)"  # what the help says


def group_by_name(name: str) -> Group:
    """``"S5"`` → :func:`symmetric` (5), ``"D13"`` → :func:`dihedral` (13), ``"Z7"`` →
    :func:`cyclic` (7)."""
    match = re.fullmatch(r"([SsDdZz])(\d{1,4})", name.strip())
    if match is None:
        raise TaskError(f"unknown group {name!r}: use {GROUP_NAMES}")
    kind, size = match.group(1).upper(), int(match.group(2))
    return {"S": symmetric, "D": dihedral, "Z": cyclic}[kind](size)
