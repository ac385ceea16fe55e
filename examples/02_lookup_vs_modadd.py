"""Random labels vs structure: the same network on `lookup` and `modadd`, in bits.

Both tasks are tables of the same size. `modadd` has a program of a handful of bits
(x + y); `lookup` is a uniformly random table, and no program shorter than the table itself
explains it. Minimum description length (MDL) says the best explanation of data D is the one
that minimizes L(P) + L(D | P): for `modadd` that is x + y with no exceptions; for `lookup`
it is the literal table, ≈ N·log2(p) bits for N training pairs.

The network is given both. On `modadd` it groks and its circuit is a few dozen bits; on
`lookup` it can only memorize: it fits every training pair and stays at chance (1/p) on the
rest, and compare finds no compact circuit. The description-length ladder makes the
difference one table.

    python examples/02_lookup_vs_modadd.py [--quick]
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from _common import parse_quick

from compare import compare_run
from neural import default_config, train
from synth import synthesize
from taskcore.registry import get_task


def step(text: str) -> float:
    """Say what is starting (the line is finished by :func:`done`) and start its clock."""
    print(f"  {text}…", end="", flush=True)
    return time.perf_counter()


def done(t0: float, said: str = "") -> None:
    print(f" {said}{' ' if said else ''}({time.perf_counter() - t0:.1f} s)", flush=True)


def ladder(name: str, p: int, frac: float, steps: int, tmp: Path) -> dict:
    task = get_task(name, p=p)
    config = default_config("transformer", train_frac=frac, steps=steps)
    split = task.split(config.train_frac, config.seed)  # the split both learners share
    print(f"{name} ({task.formula}):", flush=True)

    t0 = step("searching for the shortest programs")
    found = synthesize(task, split)
    programs = found.programs
    done(t0, f"best: {programs[0].expr}, {programs[0].bits:.0f} bits")

    every = max(steps // 3, 1)
    mark = [every]

    def on_step(info) -> None:  # the events as they happen, and a line every third of the way
        for event in info.events:
            print(f"    step {info.step:5d}: {event} (train acc {info.train_acc:.0%}, "
                  f"test acc {info.test_acc:.1%})", flush=True)  # fmt: skip
        if info.step >= mark[0]:
            print(f"    step {info.step:5d} of {steps}: test acc {info.test_acc:.1%}", flush=True)
            mark[0] += every

    print(f"  training the network for up to {steps} steps:", flush=True)
    t0 = time.perf_counter()
    run = train(task, config, on_step=on_step, run_dir=tmp / name)
    print(f"    stopped at step {run.steps} ({time.perf_counter() - t0:.1f} s)", flush=True)

    t0 = step("extracting the circuit and matching it to the programs")
    result = compare_run(run.run_dir, top_k=3, synth_result=found, progress=False)
    done(t0)
    best = programs[0]
    table = next(r for r in programs if r.kind == "table")
    return {
        "task": name,
        "best explanation": f"{best.expr} ({best.bits:.0f} bits)",
        "table bits": table.bits,
        "network test acc": run.final["test_acc"],
        "circuit bits": result.circuit.bits if result.circuit.found else "none (no circuit found)",
        "circuit faithful": result.circuit.faithfulness,
        "verdict": result.match.verdict.split(":")[0],
    }


def main(quick: bool) -> None:
    p, frac, steps = (23, 0.8, 1500) if quick else (59, 0.3, 3000)
    print(f"p = {p}, {frac:.0%} of the pairs for training, the same network on both tasks\n")
    with tempfile.TemporaryDirectory() as tmp:
        rows = [ladder(name, p, frac, steps, Path(tmp)) for name in ("modadd", "lookup")]
    print()
    for row in rows:
        print(f"{row['task']}:")
        for key, value in row.items():
            if key != "task":
                shown = f"{value:.1%}" if key in ("network test acc", "circuit faithful") else value
                shown = f"{shown:.0f}" if isinstance(shown, float) else shown
                print(f"  {key:18s} {shown}")
    print("\nOn modadd the shortest program is tiny and the network's circuit is nearly as "
          "short;\non lookup the table is the shortest explanation and the network memorized.")  # fmt: skip


if __name__ == "__main__":
    main(parse_quick(__doc__))
