"""Two-part codes: every description length of the project, in one place.

Minimum description length: the best explanation of the training data is the one that
describes it in the fewest bits, counting the description of the model too. Every rung of
the ladder that describes *the data* — a synthesized program, the circuit extracted from a
network, the literal table — is priced the same way, on the N training pairs (outputs are
symbols 0..n−1; the receiver knows the inputs (x, y) and codes only outputs):

    L(model)                           the model's own bits (a program: the grammar's bits,
                                       :mod:`synth.grammar`; a circuit: its template,
                                       :func:`compare.circuit.template_bits`)
    L(data | model) = log2(N + 1)      how many exceptions, k ∈ 0..N
                    + log2 C(N, k)     which k of the N pairs (a subset of known size)
                    + k · log2 n       each right answer

An exact model pays only log2(N + 1) on top of its own bits, the same for every model, so
among exact models the shortest wins. (A right answer could be coded in log2(n − 1) bits, as
it differs from the model's; we keep log2 n so that a model wrong on every pair never
undercuts the table — that saving, N · log2(n/(n−1)), is information about nothing but the
model.)

The literal table memorizes every training output: N · log2 n bits, plus log2 n for the
value it answers on pairs it has not seen. It is always a candidate, so when no program
compresses the data (a random lookup table) the table wins, *correctly*; with label noise
the right program plus its exception list wins while

    L(P) + log2(N+1) + log2 C(N, k) + k · log2 n  <  (N + 1) · log2 n.

That inequality has no neat closed form in k: :func:`noise_break_even` solves it (by
bisection, the left side grows with k) and gives the largest share of wrong labels a model
of L(P) bits can carry and still beat the table. It is high — for x + y mod 97 on 2,823
training pairs it is 97% — because naming a wrong pair costs only about log2 n + a
little more than the table pays for it anyway.

The primitives below (:func:`integer_bits`, :func:`subset_bits`, :func:`choice_bits`) are the
pieces other codes are built from, so no module counts bits its own way.
"""

from __future__ import annotations

import math

from synth.grammar import elias_gamma_bits


def log2_binomial(N: int, k: int) -> float:
    """log2 C(N, k), via lgamma (exact enough for counting bits)."""
    if k < 0 or k > N:
        raise ValueError(f"need 0 ≤ k ≤ N, got k = {k}, N = {N}")
    return (math.lgamma(N + 1) - math.lgamma(k + 1) - math.lgamma(N - k + 1)) / math.log(2)


def integer_bits(k: int) -> int:
    """A non-negative integer of no known bound: Elias gamma of k + 1 (1 bit for 0)."""
    return elias_gamma_bits(k + 1)


def subset_bits(N: int, k: int) -> float:
    """Which k of N known items: log2 C(N, k)."""
    return log2_binomial(N, k)


def choice_bits(options: int) -> float:
    """One of ``options`` equally likely choices: log2(options)."""
    return math.log2(options) if options > 1 else 0.0


def data_bits(k: int, N: int, n: int) -> float:
    """L(data | model) for a model wrong on ``k`` of ``N`` training pairs over ``n`` symbols."""
    return math.log2(N + 1) + log2_binomial(N, k) + k * math.log2(n)


def table_bits(N: int, n: int) -> float:
    """The literal table: each of the N training outputs in log2 n bits, plus a default."""
    return (N + 1) * math.log2(n)


def noise_break_even(model_bits: float, N: int, n: int) -> float:
    """The largest share k/N of wrong training labels at which a model of ``model_bits``
    bits plus its exceptions is still shorter than the table (0 if it never is)."""
    table = table_bits(N, n)
    if model_bits + data_bits(0, N, n) >= table:
        return 0.0
    lo, hi = 0, N  # model + data_bits(lo) < table; find the last such k
    if model_bits + data_bits(N, N, n) < table:
        return 1.0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if model_bits + data_bits(mid, N, n) < table:
            lo = mid
        else:
            hi = mid
    return lo / N
