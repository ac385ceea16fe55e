"""``synthesize``: search a task's training split, then rank what was found by MDL.

The pipeline is three steps, each in its own module:

1. :mod:`synth.search` enumerates programs in order of description length (the prior of
   :mod:`synth.grammar`) and returns the k cheapest exact programs and a few near misses;
2. every returned program is evaluated here on *all* training pairs (its exceptions, train
   accuracy) and on the held-out pairs (test accuracy);
3. :mod:`synth.mdl` scores each by L(P) + L(data | P) and adds the literal table as a rival;
   the ranking is by that total, best (fewest bits) first.

The result is a plain dataclass that round-trips through JSON (``to_json``/``from_json``);
``expr`` is always ``--expr`` syntax, so :func:`synth.parse_program` reads it back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from taskcore.algebra import Algebra, canonical
from taskcore.language import Expr, parse, to_sympy
from taskcore.serial import JsonMixin
from taskcore.table import Split, Task

from .config import SearchProgress, SynthConfig
from .grammar import grammar_for
from .mdl import data_bits, table_bits
from .search import search

TABLE_EXPR = "table"


def parse_program(text: str, task: Task) -> Expr:
    """A program from its ``--expr`` text, in the canonical form of ``task``'s algebra (the
    form the grammar prices): ``parse_program("x * inv(y)", t) == parse_program("x / y", t)``."""
    return canonical(parse(text), task.algebra)


def program_bits(program: Expr, algebra: Algebra) -> float:
    """L(P) of a canonical program under its algebra's grammar."""
    return grammar_for(algebra).bits(program)


@dataclass(frozen=True)
class RankedProgram(JsonMixin):
    """One ranked explanation of the training data: a program (+ exceptions) or the table.

    ``bits`` is the total two-part length ``program_bits + data_bits``; ``exceptions`` the
    number of training pairs the program gets wrong (0 for the table).
    """

    expr: str
    kind: str  # "program" | "table"
    bits: float
    program_bits: float
    data_bits: float
    exceptions: int
    train_acc: float
    test_acc: float
    sympy: str = ""
    exact: bool = False  # right on every training pair


@dataclass(frozen=True)
class SearchStats(JsonMixin):
    """What the search did: ``programs`` candidates built and checked, ``distinct`` functions
    kept after observational-equivalence pruning, why it ``stopped``, time and memory."""

    seconds: float
    programs: int
    distinct: int
    stopped: str  # "solutions" | "max_bits" | "timeout" | "memory"
    bits_reached: float
    programs_per_s: float
    solutions: int
    peak_memory_mb: float  # the process's peak resident memory (ru_maxrss)
    bank_memory_mb: float  # the search's own arrays at the end
    sample_size: int
    search_seconds: float = 0.0
    # what finding the best program cost: candidates built and seconds until it was found
    # (None where the best is not an exact program the search found: the table, a near miss)
    programs_to_best: int | None = None
    seconds_to_best: float | None = None


@dataclass(frozen=True)
class SynthResult(JsonMixin):
    """Ranked programs for one task split, with the search's statistics."""

    task: str
    p: int | None
    n: int
    family: str
    formula: str
    train_frac: float
    seed: int
    n_train: int
    n_test: int
    programs: list[RankedProgram]
    stats: SearchStats
    config: SynthConfig = field(default_factory=SynthConfig)

    @property
    def best(self) -> RankedProgram:
        return self.programs[0]


def score(program: Expr, split: Split, algebra: Algebra) -> RankedProgram:
    """Evaluate ``program`` on the whole split and price it: L(P) + L(data | P)."""
    n = algebra.n
    out_train = algebra.values(program, split.x_train, split.y_train)
    wrong = int((out_train != split.out_train).sum())
    out_test = algebra.values(program, split.x_test, split.y_test)
    L_P = program_bits(program, algebra)
    L_D = data_bits(wrong, split.n_train, n)
    return RankedProgram(
        expr=program.to_text(), kind="program", bits=L_P + L_D, program_bits=L_P,
        data_bits=L_D, exceptions=wrong, train_acc=1 - wrong / split.n_train,
        test_acc=float(np.mean(out_test == split.out_test)) if split.n_test else 1.0,
        sympy=str(to_sympy(program, group=algebra.group is not None)), exact=wrong == 0,
    )  # fmt: skip


def table_default(split: Split, n: int) -> int:
    """What the literal table answers on a pair it has not seen: its most common training
    output."""
    return int(np.bincount(split.out_train, minlength=n).argmax())


def table_candidate(split: Split, n: int) -> RankedProgram:
    """The literal table: memorizes training, answers its most common output elsewhere."""
    default = table_default(split, n)
    L_D = table_bits(split.n_train, n)
    return RankedProgram(
        expr=TABLE_EXPR, kind="table", bits=L_D, program_bits=0.0, data_bits=L_D,
        exceptions=0, train_acc=1.0,
        test_acc=float(np.mean(split.out_test == default)) if split.n_test else 1.0,
        sympy="", exact=True,
    )  # fmt: skip


def synthesize(
    task: Task,
    split: Split,
    config: SynthConfig | None = None,
    on_progress: Callable[[SearchProgress], None] | None = None,
) -> SynthResult:
    """Search ``split``'s training pairs for the shortest programs; rank them (and the table)
    by two-part description length. ``on_progress`` is called after each cost level."""
    config = config or SynthConfig()
    t0 = time.perf_counter()
    algebra = task.algebra
    grammar = grammar_for(algebra)
    outcome = search(task, split, config, grammar, on_progress)
    # Rank distinct *functions*: x + y, x − (−y) and 0 + (x + y) agree on every input of the
    # domain, so only the cheapest is shown (the search keeps them apart only on the sample).
    x, y = task.pairs()
    seen: set[bytes] = set()
    ranked = []
    for program in sorted(outcome.solutions + outcome.near_misses, key=grammar.bits):
        function = algebra.values(program, x, y).tobytes()
        if function not in seen:
            seen.add(function)
            ranked.append(score(program, split, algebra))
    ranked.append(table_candidate(split, task.n))
    ranked.sort(key=lambda r: (r.bits, r.kind == "table"))
    found = dict(zip((p.to_text() for p in outcome.solutions), outcome.found_at, strict=True))
    to_best = found.get(ranked[0].expr) if ranked and ranked[0].kind == "program" else None
    stats = SearchStats(
        seconds=time.perf_counter() - t0, programs=outcome.programs, distinct=outcome.kept,
        stopped=outcome.stopped, bits_reached=outcome.bits_reached,
        programs_per_s=outcome.programs / max(outcome.seconds, 1e-9),
        solutions=len(outcome.solutions), peak_memory_mb=outcome.peak_memory_mb,
        bank_memory_mb=outcome.bank_memory_mb, sample_size=outcome.sample_size,
        search_seconds=outcome.seconds,
        programs_to_best=to_best[0] if to_best else None,
        seconds_to_best=to_best[1] if to_best else None,
    )  # fmt: skip
    return SynthResult(
        task=task.name, p=task.p, n=task.n, family=task.family, formula=task.formula,
        train_frac=split.train_frac, seed=split.seed, n_train=split.n_train,
        n_test=split.n_test, programs=ranked, stats=stats, config=config,
    )  # fmt: skip
