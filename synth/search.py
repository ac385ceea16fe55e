"""Bottom-up, cost-ordered enumeration with observational-equivalence pruning.

The search builds programs in *levels* of exact description length (quarter-bit units of
the grammar, :mod:`synth.grammar`): level L holds every program of cost L that computes a
function not seen at any cheaper level. A level is made only from cheaper levels —

    leaves of cost L;   u(a) with cost(a) = L − c_u;   a ∘ b with cost(a) + cost(b) = L − c_∘

— so programs come out in non-decreasing bits (Probe, Barke et al. 2020; DreamCoder's
enumeration by prior). Two programs with the same outputs on the training inputs are the
same function for everything the data can tell, so only the first (cheapest) one is kept:
*observational equivalence*. That collapses x + y and y + x, x * 1 and x, and the
exponentially many spellings of each function into one bank entry, so the bank grows with the
number of distinct functions, not of programs.

Vectorized. A bank entry stores its outputs on a *sample* of S training inputs (default 32,
uint8/uint16), its cost and its provenance (op, left, right, value). A whole block of
candidates — every pair (a, b) of two levels — is one numpy gather + op on (C, S) arrays.
Each candidate's sample vector is hashed to 64 bits (mix each 8-byte word, then a random
linear combination mod 2^64) and looked up in sorted runs of the bank's hashes; only unseen
functions are kept. Sampling is what makes a candidate cheap (S values instead of N); it is
sound because two distinct low-degree functions on Z_p × Z_p agree on at most a fraction
d/p of the inputs (Schwartz–Zippel), so they agree on S random samples with probability
≤ (d/p)^S. Every program the search *returns* is verified on all N training pairs.

Solutions. A candidate whose sample hash equals the target's is a candidate solution: it is
checked on all training pairs and, if exact, recorded — even when it duplicates a cheaper
function, because the k cheapest exact programs are different algorithms for one table.
Conditionals ``ite(odd(c), a, b)`` are assembled at the root only, by decomposition: with c
in {x, y}, the bank entries exact on the odd part and on the even part of the sample are
listed as they appear, and at level L every pair with cost(a) + cost(b) = L − c_ite − c(c)
is a candidate. (The search therefore finds conditionals at the root only; the grammar and
the DSL allow them anywhere.)

Near misses. For MDL ranking with exceptions, every new function's sample agreement with the
target is measured, and the best few by estimated two-part length are kept for exact scoring.

Stops: k exact solutions, the bit budget, the time budget or the memory budget, whichever
comes first; ``stopped`` says which ("solutions", "max_bits", "timeout", "memory").
"""

from __future__ import annotations

import heapq
import itertools
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from taskcore.language import Expr, leaf, node
from taskcore.table import Split, Task

from .config import SearchProgress, SynthConfig
from .grammar import UNITS_PER_BIT, Grammar
from .kernels import ADD, CONST, INV, MUL, NEG, POW, SUB, Kernels, X, Y, hash_rows, pairs
from .mdl import data_bits

_BINARY = {"add": ADD, "sub": SUB, "mul": MUL}
_UNARY = {"neg": NEG, "inv": INV}
_NAMES = {ADD: "add", SUB: "sub", MUL: "mul", NEG: "neg", INV: "inv", POW: "pow"}


@dataclass
class SearchOutcome:
    """Raw search output: exact solutions in order of bits, near misses, statistics."""

    solutions: list[Expr]
    near_misses: list[Expr]
    found_at: list[tuple[int, float]]  # per solution: (programs built, seconds) when it was found
    programs: int
    kept: int
    seconds: float
    stopped: str
    bits_reached: float
    peak_memory_mb: float
    bank_memory_mb: float
    sample_size: int


class _Stop(Exception):
    def __init__(self, reason: str):
        self.reason = reason


class Search:
    """One enumeration over one task split. Use :func:`search`."""

    def __init__(self, task: Task, split: Split, config: SynthConfig, grammar: Grammar):
        self.task, self.split, self.config, self.grammar = task, split, config, grammar
        self.algebra = task.algebra
        self.group = self.algebra.group is not None
        n = task.n
        self.dtype = np.uint8 if n <= 256 else np.uint16
        self.k = Kernels(self.algebra, self.dtype, grammar.max_exponent)
        rng = np.random.default_rng([config.seed, 0x5EA2C])

        # the sample: S training inputs (a multiple of 8 bytes), special cells first
        N = split.n_train
        order = rng.permutation(N)
        special = [
            int(np.flatnonzero(m)[0])
            for m in (split.x_train == 0, split.y_train == 0, split.x_train == 1,
                      split.y_train == 1, split.x_train == split.y_train)
            if m.any()
        ]  # fmt: skip
        picked = list(dict.fromkeys(special + order.tolist()))[: min(config.sample_size, N)]
        per_word = 8 // np.dtype(self.dtype).itemsize
        S = -(-len(picked) // per_word) * per_word
        picked += [picked[0]] * (S - len(picked))  # pad by repeating: the same for everyone
        self.sample = np.array(picked)
        self.S = S
        self.xs = split.x_train[self.sample].astype(self.dtype)
        self.ys = split.y_train[self.sample].astype(self.dtype)
        self.target_s = split.out_train[self.sample].astype(self.dtype)
        self.weights = rng.integers(0, 2**63, S // per_word, dtype=np.uint64) * np.uint64(2)
        self.weights += np.uint64(1)
        self.target_hash = hash_rows(self.target_s[None], self.weights)[0]

        # the bank: arrays that double when full, filled level by level
        self.row_bytes = S * np.dtype(self.dtype).itemsize + 8 + 4 * 3 + 2 + 1
        self.vals = np.empty((1024, S), self.dtype)
        self.cost = np.empty(1024, np.int32)
        self.op = np.empty(1024, np.int8)
        self.left = np.empty(1024, np.int32)
        self.right = np.empty(1024, np.int32)
        self.value = np.empty(1024, np.int32)
        self.size = 0
        self.levels: dict[int, tuple[int, int]] = {}  # cost → [start, end) in the bank
        self.runs: list[np.ndarray] = []  # sorted hash runs (log-structured merge)

        self.built = 0
        self.solutions: list[tuple[int, int, Expr]] = []  # (units, order, program)
        self.found_at: dict[Expr, tuple[int, float]] = {}  # (programs built, seconds) then
        self.solution_set: set[Expr] = set()
        self.near: list[tuple[float, int, int]] = []  # heap of (−estimate, order, bank index)
        self.order = 0
        self.programs_cache: dict[int, Expr] = {}
        # conditionals: for c in (x, y), bank entries exact on the odd / even part of the sample
        self.cond_masks = [] if self.group else [(X, self.xs % 2 == 1), (Y, self.ys % 2 == 1)]
        # cost → bank entries exact on the (odd, even) part, per condition
        self.cond_lists = {c: ({}, {}) for c, _ in self.cond_masks}
        self.n_train = N

    # ---- budgets -------------------------------------------------------------------
    def _check(self) -> None:
        if time.perf_counter() - self.t0 > self.config.timeout_s:
            raise _Stop("timeout")
        if self.memory_mb() > self.config.max_memory_mb:
            raise _Stop("memory")

    def memory_mb(self) -> float:
        pending = sum(v.nbytes + h.nbytes for v, h, *_ in self.pending)
        runs = sum(r.nbytes for r in self.runs)
        return (len(self.vals) * self.row_bytes + pending + runs) / 2**20

    # ---- the loop ------------------------------------------------------------------
    def run(self, on_progress: Callable[[SearchProgress], None] | None) -> SearchOutcome:
        self.t0 = time.perf_counter()
        self.pending: list = []
        g = self.grammar
        max_units = g.units(self.config.max_bits)
        self.leaf_units = self._leaf_units()
        min_units = min(u for u, *_ in self.leaf_units)
        stopped, level = "max_bits", min_units - 1
        try:
            for level in range(min_units, max_units + 1):
                self._level(level)
                if on_progress is not None and level in self.levels:
                    on_progress(self.progress(level))
                if len(self.solutions) >= self.config.top_k:
                    stopped = "solutions"
                    break
        except _Stop as stop:
            stopped = stop.reason
            self.pending = []
        except MemoryError:  # the machine's limit came before max_memory_mb
            stopped = "memory"
            self.pending = []
        seconds = time.perf_counter() - self.t0
        # equal bits: prefer the spelling with fewer parentheses (x**2 + x + y * (x + y)
        # rather than x + (y**2 + x * (x + y))), then the order of discovery
        ranked = sorted(self.solutions, key=lambda s: (s[0], s[2].to_text().count("("), s[1]))
        sols = [p for _, _, p in ranked[: self.config.top_k]]
        near = [self.program(i) for _, _, i in sorted(self.near, reverse=True)]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return SearchOutcome(
            sols, near, [self.found_at[p] for p in sols], self.built, self.size, seconds, stopped,
            level / UNITS_PER_BIT, peak, self.memory_mb(), self.S,
        )  # fmt: skip

    def progress(self, level: int) -> SearchProgress:
        return SearchProgress(
            level / UNITS_PER_BIT, self.size, self.built, len(self.solutions),
            time.perf_counter() - self.t0,
        )  # fmt: skip

    def _leaf_units(self) -> list[tuple[int, int, int, np.ndarray]]:
        """(cost, op, value, sample vector) of every leaf: x, y and each residue constant."""
        g = self.grammar
        out = [(g.units(g.op_bits("x")), X, 0, self.xs), (g.units(g.op_bits("y")), Y, 0, self.ys)]
        if "const" in g.ops:
            for c in range(self.task.n):
                out.append((g.units(g.const_bits(c)), CONST, c, np.full(self.S, c, self.dtype)))
        return out

    def _level(self, L: int) -> None:
        g = self.grammar
        self.pending = []
        leaves = [(op, v, vec) for u, op, v, vec in self.leaf_units if u == L]
        if leaves:
            vecs = np.stack([vec for _, _, vec in leaves])
            ops = np.array([op for op, _, _ in leaves], np.int8)
            vals = np.array([v for _, v, _ in leaves], np.int32)
            zeros = np.zeros(len(leaves), np.int32)
            self._offer(vecs, ops, zeros, zeros, vals)
        for name, code in _UNARY.items():
            if name in g.ops:
                self._unary(L, code, g.units(g.op_bits(name)), 0)
        if "pow" in g.ops:
            for k in range(2, g.max_exponent + 1):
                self._unary(L, POW, g.units(g.pow_bits(k)), k)
        for name, code in _BINARY.items():
            if name in g.ops:
                self._binary(L, code, g.units(g.op_bits(name)))
        self._commit(L)
        if self.cond_masks:
            self._conditionals(L)

    def _unary(self, L: int, code: int, c: int, k: int) -> None:
        if L - c not in self.levels:
            return
        start, end = self.levels[L - c]
        for s in range(start, end, self.config.chunk):
            e = min(end, s + self.config.chunk)
            ia = np.arange(s, e, dtype=np.int32)
            out = self.k.unary(code, self.vals[s:e], k)
            self._offer(out, np.full(e - s, code, np.int8), ia, ia, np.full(e - s, k, np.int32))

    def _binary(self, L: int, code: int, c: int) -> None:
        T = L - c
        commutative = code in (ADD, MUL) and not self.group
        chunk = self.config.chunk
        batch: list[tuple[np.ndarray, np.ndarray]] = []
        size = 0
        for la in sorted(self.levels):
            lb = T - la
            if lb not in self.levels or (commutative and lb < la):
                continue
            (sa, ea), (sb, eb) = self.levels[la], self.levels[lb]
            for ia, ib in pairs(sa, ea, sb, eb, commutative and la == lb, chunk):
                batch.append((ia, ib))  # small blocks are pooled into one numpy call
                size += len(ia)
                if size >= chunk:
                    self._apply(code, batch)
                    batch, size = [], 0
        if batch:
            self._apply(code, batch)

    def _apply(self, code: int, batch: list[tuple[np.ndarray, np.ndarray]]) -> None:
        ia = np.concatenate([a for a, _ in batch]) if len(batch) > 1 else batch[0][0]
        ib = np.concatenate([b for _, b in batch]) if len(batch) > 1 else batch[0][1]
        out = self.k.binary(code, np.take(self.vals, ia, axis=0), np.take(self.vals, ib, axis=0))
        m = len(ia)
        self._offer(out, np.full(m, code, np.int8), ia, ib, np.zeros(m, np.int32))

    def _offer(self, out, ops, left, right, value) -> None:
        """Candidates of the current level: count, catch solutions, drop known functions."""
        self.built += len(out)
        h = hash_rows(out, self.weights)
        hit = np.flatnonzero(h == self.target_hash)
        for i in hit[: 4 * self.config.top_k]:
            self._solution(int(ops[i]), int(left[i]), int(right[i]), int(value[i]))
        order = np.argsort(h)
        h = h[order]
        fresh = np.ones(len(h), bool)
        fresh[1:] = h[1:] != h[:-1]  # first of each hash within the chunk
        for run in self.runs:
            pos = np.searchsorted(run, h)
            pos[pos == len(run)] = 0
            fresh &= run[pos] != h
        keep, h = order[fresh], h[fresh]
        if len(keep):
            by_index = np.argsort(keep)  # back to generation order
            keep, h = keep[by_index], h[by_index]
            self.pending.append((out[keep], h, ops[keep], left[keep], right[keep], value[keep]))
        self._check()

    def _commit(self, L: int) -> None:
        """Append the level's new functions (unique across its chunks) to the bank."""
        if not self.pending:
            return
        vals, h, ops, left, right, value = (
            np.concatenate(c) for c in zip(*self.pending, strict=True)
        )
        self.pending = []
        _, first = np.unique(h, return_index=True)
        first.sort()  # generation order: x before y, cheaper left operands first
        vals, h, ops, left, right, value = (a[first] for a in (vals, h, ops, left, right, value))
        m = len(h)
        start = self.size
        if start + m > len(self.vals):
            self._grow(start + m)
        end = start + m
        self.vals[start:end] = vals
        self.cost[start:end] = L
        self.op[start:end], self.left[start:end] = ops, left
        self.right[start:end], self.value[start:end] = right, value
        self.size = end
        self.levels[L] = (start, end)
        self.runs.append(np.sort(h))
        while len(self.runs) > 1 and len(self.runs[-2]) <= 2 * len(self.runs[-1]):
            last = self.runs.pop()
            self.runs[-1] = np.sort(np.concatenate([self.runs[-1], last]))
        self._near_misses(start, end, L)
        eq = vals == self.target_s if self.cond_masks else None
        for c, odd in self.cond_masks:
            for part, mask in zip(self.cond_lists[c], (odd, ~odd), strict=True):
                ok = np.flatnonzero(eq[:, mask].all(axis=1))[:64]
                if len(ok):
                    part[L] = (start + ok).tolist()

    def _grow(self, need: int) -> None:
        cap = max(need, 2 * len(self.vals))
        if cap * self.row_bytes / 2**20 > self.config.max_memory_mb:
            raise _Stop("memory")
        for name in ("vals", "cost", "op", "left", "right", "value"):
            old = getattr(self, name)
            new = np.empty((cap, *old.shape[1:]), old.dtype)
            new[: self.size] = old[: self.size]
            setattr(self, name, new)

    def _near_misses(self, start: int, end: int, L: int) -> None:
        """Keep the few inexact functions with the best estimated L(P) + L(data | P)."""
        k = self.config.near_misses
        agree = (self.vals[start:end] == self.target_s).sum(axis=1)
        best = (
            np.argsort(-agree, kind="stable")[:k]
            if len(agree) <= k
            else np.argpartition(-agree, k)[:k]
        )
        N, n = self.n_train, self.task.n
        for i in best:
            wrong = round((1 - agree[i] / self.S) * N)
            estimate = L / UNITS_PER_BIT + data_bits(wrong, N, n)
            item = (-estimate, self.order, start + int(i))
            self.order += 1
            if len(self.near) < k:
                heapq.heappush(self.near, item)
            elif item > self.near[0]:
                heapq.heapreplace(self.near, item)

    def _conditionals(self, L: int) -> None:
        g = self.grammar
        c_ite = g.units(g.op_bits("ite"))
        for c, _ in self.cond_masks:
            budget = L - c_ite - g.units(g.op_bits("x" if c == X else "y"))
            odd, even = self.cond_lists[c]
            cond = leaf("x" if c == X else "y")
            for la, left in odd.items():
                for a, b in itertools.product(left, even.get(budget - la, ())):
                    if a != b:
                        ite = node("ite", cond, self.program(a), self.program(b))
                        self._check_solution(ite, L)

    # ---- programs from the bank ----------------------------------------------------------
    def program(self, i: int) -> Expr:
        got = self.programs_cache.get(i)
        if got is None:
            got = self._make(int(self.op[i]), int(self.left[i]), int(self.right[i]),
                             int(self.value[i]))  # fmt: skip
            self.programs_cache[i] = got
        return got

    def _make(self, op: int, left: int, right: int, value: int) -> Expr:
        """The program a bank entry's provenance describes, in canonical form (a * inv(b)
        is a / b mod n, as :func:`taskcore.algebra.canonical` writes it)."""
        if op in (X, Y, CONST):
            return leaf({X: "x", Y: "y", CONST: "const"}[op], value)
        if op == POW:
            return node("pow", self.program(left), value=value)
        if op in (NEG, INV):
            return node(_NAMES[op], self.program(left))
        a, b = self.program(left), self.program(right)
        if op == MUL and b.op == "inv" and not self.group:
            return node("div", a, b.args[0])
        return node(_NAMES[op], a, b)

    def _solution(self, op: int, left: int, right: int, value: int) -> None:
        p = self._make(op, left, right, value)
        self._check_solution(p, self.grammar.units(self.grammar.bits(p)))

    def _check_solution(self, p: Expr, units: int) -> None:
        """Record ``p`` if it is exact on *all* training pairs (the sample only proposed it)."""
        if p in self.solution_set:
            return
        out = self.algebra.values(p, self.split.x_train, self.split.y_train)
        if np.array_equal(out, self.split.out_train):
            self.solution_set.add(p)
            self.solutions.append((units, self.order, p))
            self.found_at[p] = (self.built, time.perf_counter() - self.t0)
            self.order += 1


def search(
    task: Task,
    split: Split,
    config: SynthConfig,
    grammar: Grammar,
    on_progress: Callable[[SearchProgress], None] | None = None,
) -> SearchOutcome:
    """Enumerate programs for ``task``'s training split in order of bits (see module doc)."""
    return Search(task, split, config, grammar).run(on_progress)
