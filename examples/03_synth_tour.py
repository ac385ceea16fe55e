"""A tour of the synthesizer: the prior, the search, and MDL with exceptions on a noisy task.

1. **The prior.** A probabilistic grammar gives every production a probability; a program's
   description length is L(P) = −Σ log2 P(choice) bits over the choices that build it. Natural
   programs are short: x + y costs fewer bits than x − (−y).
2. **The search.** Bottom-up and cost-ordered: programs are built in buckets of increasing
   bits out of cheaper ones, and two programs with the same outputs on the training inputs are
   one (observational equivalence), so the bank holds each *function* once.
3. **MDL.** Each candidate is scored by the two-part code L(P) + L(D | P), where every training
   pair the program gets wrong costs its position and its correct value. The literal table is
   always a candidate. On a task with 5% of its labels flipped, x + y plus its list of
   exceptions is still far shorter than the table; on `lookup` nothing beats the table.

    python examples/03_synth_tour.py [--quick]
"""

from __future__ import annotations

from _common import parse_quick

from synth import SynthConfig, default_grammar, parse_program, synthesize
from taskcore.registry import get_task


def show(result, top: int = 3) -> None:
    print(f"    {'program':24s} {'bits':>7s} = {'L(P)':>5s} + {'L(D|P)':>7s}")
    for r in result.programs[:top]:
        print(f"    {r.expr:24s} {r.bits:7.1f} = {r.program_bits:5.2f} + {r.data_bits:7.1f} bits, "
              f"{r.exceptions:4d} exceptions, test acc {r.test_acc:.3f}")  # fmt: skip


def main(quick: bool) -> None:
    p = 23 if quick else 97
    print("1. The prior (bits of each production):")
    for row in default_grammar("modular").rows():
        if row["bits"] is None:  # the closing row: Σ 2^(−bits) over the productions
            print(f"    Kraft sum Σ 2^−bits = {row['probability']:.3f} (≤ 1: a proper code)")
        else:
            print(f"    {row['production']:18s} {row['bits']:5.2f} bits   p = {row['probability']:.3f}"
                  f"   {row['note']}")  # fmt: skip
    task = get_task("modadd", p=p)
    grammar = default_grammar("modular")
    for text in ("x + y", "x - -y", "x * inv(y)", "x**2 + y**2"):
        print(f"    L({text}) = {grammar.bits(parse_program(text, task)):.2f} bits")

    print(f"\n2. The search, on x² + xy + y² mod {p} (30% of pairs for training):")
    task = get_task("modquad", p=p)
    levels = []
    result = synthesize(task, task.split(0.3, seed=0), SynthConfig(top_k=1),
                        on_progress=lambda pr: levels.append(pr))  # fmt: skip
    for pr in levels[:: max(1, len(levels) // 6)]:
        print(f"    level {pr.bits:6.2f} bits: {pr.kept:8,} distinct functions, "
              f"{pr.programs:9,} programs built")  # fmt: skip
    s = result.stats
    print(f"    stopped ({s.stopped}) after {s.programs:,} programs in {s.seconds:.2f} s "
          f"({s.programs_per_s / 1e6:.2f} M/s); best:")  # fmt: skip
    show(result, 1)

    print(f"\n3. MDL. modadd mod {p} with 5% of the labels flipped:")
    noisy = get_task("modadd", p=p, noise=0.05, seed=1)
    show(synthesize(noisy, noisy.split(0.3, seed=0)))
    print(f"   lookup mod {p} (a random table): the table wins")
    lookup = get_task("lookup", p=p)
    show(synthesize(lookup, lookup.split(0.3, seed=0), SynthConfig(timeout_s=5)))


if __name__ == "__main__":
    main(parse_quick(__doc__))
