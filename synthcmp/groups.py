"""The symmetric group S5 as a table, for the group tasks.

Indexing (documented because every S5 table, plot and program depends on it): the 120
permutations of (0, 1, 2, 3, 4) in lexicographic order, as ``itertools.permutations`` lists
them. Index 0 is the identity (0, 1, 2, 3, 4); index 119 is (4, 3, 2, 1, 0).

Composition is right-to-left, as for functions: ``(a·b)(i) = a(b(i))``.
"""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np

IDENTITY = 0


@cache
def permutations(k: int = 5) -> tuple[tuple[int, ...], ...]:
    """All permutations of range(k) in lexicographic order: element i of the group is entry i."""
    return tuple(itertools.permutations(range(k)))


@cache
def multiplication_table(k: int = 5) -> np.ndarray:
    """``mul[a, b]`` = index of a∘b, where (a∘b)(i) = a(b(i))."""
    perms = np.array(permutations(k))  # (n, k)
    index = {p: i for i, p in enumerate(permutations(k))}
    n = len(perms)
    mul = np.empty((n, n), dtype=np.int64)
    for b in range(n):
        ab = np.take_along_axis(perms, np.broadcast_to(perms[b], (n, k)), axis=1)  # a(b(i))
        mul[:, b] = [index[tuple(row)] for row in ab]
    mul.setflags(write=False)
    return mul


@cache
def inverses(k: int = 5) -> np.ndarray:
    """``inv[a]`` = index of a⁻¹."""
    mul = multiplication_table(k)
    inv = np.argmax(mul == IDENTITY, axis=1).astype(np.int64)
    inv.setflags(write=False)
    return inv
