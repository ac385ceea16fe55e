"""Two-part code: rank programs by L(P) + L(data | P), with the literal table as a rival.

Minimum description length: the best explanation of the training data is the one that
describes it in the fewest bits, counting the description of the model too. For a program P
that is wrong on k of the N training pairs (outputs are symbols 0..n−1):

    L(P)          the grammar's bits for the program (:mod:`synth.grammar`)
    L(data | P) = log2(N + 1)          how many exceptions, k ∈ 0..N
                + log2 C(N, k)         which k of the N pairs (a subset of known size)
                + k · log2 n           each right answer

The receiver knows the training inputs (x, y); only outputs are coded. Naming the k wrong
pairs as a subset costs log2 C(N, k) ≤ k · log2 N, the better code when k is not tiny. An
exact program pays only log2(N + 1) on top of L(P), the same for every program, so among
exact programs the shortest wins. (A right answer could be coded in log2(n − 1) bits, as it
differs from P's; we keep log2 n so that a program wrong on every pair never undercuts the
table — that saving, N · log2(n/(n−1)), is information about nothing but the program.)

The literal table memorizes every training output: N · log2 n bits, plus log2 n for the
value it answers on pairs it has not seen. It is always a candidate, so when no program
compresses the data (a random lookup table) the table wins, *correctly*; with label noise
the right program plus its exception list wins as long as

    L(P) + log2(N+1) + log2 C(N, k) + k · log2 n  <  (N + 1) · log2 n,

roughly while the error rate k/N stays below log2 n / (log2 N + log2 n).
"""

from __future__ import annotations

import math


def log2_binomial(N: int, k: int) -> float:
    """log2 C(N, k), via lgamma (exact enough for counting bits)."""
    if k < 0 or k > N:
        raise ValueError(f"need 0 ≤ k ≤ N, got k = {k}, N = {N}")
    return (math.lgamma(N + 1) - math.lgamma(k + 1) - math.lgamma(N - k + 1)) / math.log(2)


def data_bits(k: int, N: int, n: int) -> float:
    """L(data | P) for a program wrong on ``k`` of ``N`` training pairs over ``n`` symbols."""
    return math.log2(N + 1) + log2_binomial(N, k) + k * math.log2(n)


def table_bits(N: int, n: int) -> float:
    """The literal table: each of the N training outputs in log2 n bits, plus a default."""
    return (N + 1) * math.log2(n)
