"""The search's inner loop: operations on whole blocks of sample vectors, and fingerprints.

A bank entry of :mod:`synth.search` is a program's outputs on S sampled training inputs,
stored as uint8 (n ≤ 256) or uint16. Here every operation is a table lookup or wrap-around
arithmetic on (C, S) blocks of such vectors, so a million candidates cost a few numpy calls:

* ``a + b mod n`` as ``s = a + b; min(s, s − n)`` in a wider unsigned type (s − n wraps to a
  huge value exactly where s < n), ``a − b`` as ``a + (n − b)`` the same way;
* ``a · b``, inverses, negation and powers by lookup in precomputed tables (a group's
  composition is its multiplication table);
* a 64-bit fingerprint of each row (:func:`hash_rows`), so "have we seen this function?"
  is a sorted-array lookup.
"""

from __future__ import annotations

import numpy as np

from taskcore.algebra import Algebra

# op codes of bank provenance
X, Y, CONST, ADD, SUB, MUL, NEG, INV, POW = range(9)

_MIX = np.uint64(0x9E3779B97F4A7C15)


def hash_rows(v: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """64-bit fingerprint of each row of ``v`` (C, S): mix each 8-byte word by an odd multiply
    and an xor-shift (bijections), then a random odd-weighted sum mod 2^64."""
    words = np.ascontiguousarray(v).view(np.uint64)
    m = words * _MIX
    m ^= m >> np.uint64(29)
    m *= weights
    return m.sum(axis=1, dtype=np.uint64)


class Kernels:
    """The operations on sample vectors, as table lookups and wrap-around arithmetic."""

    def __init__(self, algebra: Algebra, dtype: type, max_exponent: int):
        n = algebra.n
        self.n = n
        self.dtype = dtype
        self.group = algebra.group is not None
        r = np.arange(n)
        if self.group:
            self.mul_flat = algebra.group.mul.astype(dtype).ravel()
        else:
            self.mul_flat = (r[:, None] * r[None, :] % n).astype(dtype).ravel()
            self.neg = ((-r) % n).astype(dtype)
            self.pow = {k: np.array([pow(int(a), k, n) for a in r], dtype) for k in
                        range(2, max_exponent + 1)}  # fmt: skip
        self.inv = algebra.inverse_table.astype(dtype)
        self.wide = np.uint16 if dtype == np.uint8 else np.uint32

    def binary(self, op: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        n = self.n
        if op == MUL:
            idx = a.astype(self.wide) * self.wide(n)
            idx += b
            return np.take(self.mul_flat, idx)
        s = a.astype(self.wide)
        if op == ADD:
            s += b
        else:  # SUB: a + (n − b) stays non-negative
            s += self.wide(n)
            s -= b
        t = s - self.wide(n)  # wraps to a huge value where s < n
        np.minimum(s, t, out=s)
        return s.astype(self.dtype)

    def unary(self, op: int, a: np.ndarray, k: int = 0) -> np.ndarray:
        table = self.neg if op == NEG else self.inv if op == INV else self.pow[k]
        return np.take(table, a)


def pairs(sa, ea, sb, eb, triangle: bool, chunk: int):
    """Index arrays (ia, ib) of every pair from [sa, ea) × [sb, eb), in chunks of ≤ ``chunk``;
    with ``triangle`` (a commutative op on one level) only the pairs with ia ≤ ib."""
    nb = eb - sb
    if not triangle:
        rows = max(1, chunk // max(nb, 1))
        for r in range(sa, ea, rows):
            r2 = min(ea, r + rows)
            ia = np.repeat(np.arange(r, r2, dtype=np.int32), nb)
            ib = np.tile(np.arange(sb, eb, dtype=np.int32), r2 - r)
            yield ia, ib
        return
    # row i (sa ≤ i < ea) pairs with j = i..eb−1; cut the rows into chunks of ≈ chunk pairs
    rows = np.arange(sa, ea, dtype=np.int64)
    ends = np.cumsum(eb - rows)
    cuts = np.searchsorted(ends, np.arange(chunk, ends[-1], chunk), side="right")
    for r0, r1 in zip([0, *cuts.tolist()], [*cuts.tolist(), len(rows)], strict=True):
        if r1 <= r0:
            continue
        i = rows[r0:r1]
        counts = eb - i
        starts = np.cumsum(counts) - counts
        ia = np.repeat(i, counts)
        ib = np.arange(int(counts.sum())) - np.repeat(starts - i, counts)
        yield ia.astype(np.int32), ib.astype(np.int32)
