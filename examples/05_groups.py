"""Groups: why the Fourier modes of Z_p are irreducible representations, and what a network
that composes permutations computes with.

A network that grokks x + y mod p computes with waves cos(2πk(x + y)/p). Why waves? Because
e^{2πikt/p} is a *representation* of Z_p: a map ρ from the group to matrices (here 1×1) with
ρ(x + y) = ρ(x)·ρ(y). Products of representations are how a network can add. Every finite
group has a handful of *irreducible* representations ρ — matrices with ρ(x·y) = ρ(x)ρ(y) —
and their characters χ_ρ = trace ρ. Chughtai et al. (2023) found that networks trained to
compose elements of any group compute

    logit(x, y, c) ≈ Σ_ρ α_ρ χ_ρ(x·y·c⁻¹),

largest at c = x·y because χ_ρ peaks at the identity. For Z_p the χ are 2cos(2πkt/p): the
Fourier circuit is this algorithm's special case.

This script (1) computes Z_7's characters from nothing but its addition table and shows they
are the cosines; (2) lists the irreducible representations of S4 and S5, computed the same
way; (3) trains a network on composition in S4 (and S5 without --quick) and reads which
representations it uses.

    python examples/05_groups.py            # S4 and S5, about two minutes
    python examples/05_groups.py --quick    # S4 only, seconds
"""

from __future__ import annotations

import numpy as np
from _common import parse_quick

from compare import analyse_model
from compare.irreps import irreps
from neural import default_config, train
from neural.config import default_model
from taskcore import groups
from taskcore.registry import get_task
from taskcore.table import default_train_frac


def cyclic_characters(m: int) -> None:
    print(f"1. The irreducible representations of Z_{m}, from its addition table alone:")
    for rep in sorted(irreps(groups.cyclic(m)), key=lambda r: int(r.name.split("=")[1])):
        k = int(rep.name.split("=")[1])
        wave = 2 * np.cos(2 * np.pi * k * np.arange(m) / m) if rep.paired else \
            np.cos(2 * np.pi * k * np.arange(m) / m)  # fmt: skip
        shown = " ".join(f"{v:5.2f}" for v in rep.character)
        same = "= 2cos(2πkt/7)" if rep.paired else "= cos(2πkt/7)"
        print(f"   {rep.name}: χ(t) = {shown}   {same}: {np.allclose(rep.character, wave)}")
    print("   The characters of Z_p are the Fourier waves: the frequencies ARE the irreps.\n")


def symmetric_irreps() -> None:
    print("2. The irreducible representations of S4 and S5 (characters from the class algebra):")
    for name in ("S4", "S5"):
        reps = irreps(groups.group_by_name(name))
        print(f"   {name}: Σ d² = {sum(r.dim**2 for r in reps)} = |{name}|")
        for r in reps:
            shown = r.name if "dim" in r.name else f"{r.name} (dim {r.dim})"
            print(f"     {shown}")
    print()


def train_and_read(name: str) -> None:
    task = get_task(name)
    config = default_config(default_model(task), train_frac=default_train_frac(task))
    print(f"3. {task.formula}: {config.model.name}, {config.train_frac:.0%} of the "
          f"{task.n ** 2:,} pairs for training")  # fmt: skip

    def on_step(info) -> None:
        for event in info.events:
            print(f"   step {info.step:5d}: {event} (test accuracy {info.test_acc:.1%})")

    run = train(task, config, on_step=on_step)
    split = task.split(config.train_frac, config.seed)
    found = analyse_model(run.model, task, split,
                          [{"expr": task.expr, "kind": "program", "bits": 0.0}])  # fmt: skip
    c = found.circuit
    print(f"   trained {run.steps} steps in {run.seconds:.1f} s; the circuit, read in "
          f"{name[:2].upper()}'s irreps:")  # fmt: skip
    for ir in c.key_irreps:
        print(f"     {ir['name']:16s} dim {ir['dim']}   α = {ir['alpha']:5.2f}   "
              f"{ir['embedding_share']:.0%} of the embedding")  # fmt: skip
    print(f"   the logit model Σ α χ(x·y·c⁻¹) explains {c.fve:.0%} of the logit variance;")
    print(f"   its argmax agrees with the network on {c.faithfulness:.1%} of inputs")
    print(f"   Verdict: {found.match.verdict}\n")


def main(quick: bool) -> None:
    cyclic_characters(7)
    symmetric_irreps()
    for name in ("s4mul",) if quick else ("s4mul", "s5mul"):
        train_and_read(name)


if __name__ == "__main__":
    main(parse_quick(__doc__))
