"""The Power et al. operations: which ones the network groks, and which program each matches.

Power et al. (2022) trained small transformers on binary operations mod a prime and found
that some (x + y, x − y, x / y) grok from a modest share of the table while others
(x³ + xy², the conditional) need much more data or never generalize. Here the same
network, with the same budget, is trained on each of the nine, and for each we ask:

* did it memorize, and did it grok (test accuracy ≥ 99%)?
* which of the synthesizer's shortest programs does it implement, with what behavioural
  agreement — or is the honest answer "memorization, no compact circuit"?

The synthesizer solves every one of them in well under a second; gradient descent does not.
That gap — which programs are easy to *find* for each learner — is what synthcmp is for.

    python examples/04_power_operations.py [--quick] [--frac F]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _common import fraction, parser

from compare import compare_run
from neural import default_config, train
from taskcore.registry import POWER_TASKS, get_task

WIDTH = 100  # no line of output is wider


def said(match) -> str:
    """The match in a few words: the program and its agreement, or what the network did."""
    grade = getattr(match, "grade", "implements" if match.implements else "memorization")
    if grade == "implements":
        return f"{match.program} ({match.behaviour:.0%} agreement)"
    if grade == "partial":
        return f"partly {match.program} ({match.behaviour:.0%} agreement)"
    if grade == "other":
        return "generalizes, matches no candidate"
    return "memorization"


def main(quick: bool, frac: float) -> None:
    p, steps = (11, 300) if quick else (23, 1500)
    names = POWER_TASKS[:3] if quick else POWER_TASKS
    tasks = [get_task(name, p=p) for name in names]
    formulas = [t.formula.replace(" (mod p)", "") for t in tasks]
    wide = max(len("f(x, y) mod p"), *(len(f) for f in formulas))
    print(f"p = {p}, {frac:.0%} of the pairs for training, at most {steps} steps each\n")
    print(
        f"{'task':9s} {'f(x, y) mod p':{wide}s} {'memorized':>9s} {'grokked':>7s} {'test':>6s}  match"
    )
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for task, formula in zip(tasks, formulas, strict=True):
            row = f"{task.name:9s} {formula:{wide}s} "
            if sys.stdout.isatty():  # a status the finished row below overwrites
                print(row + "training…", end="\r", flush=True)
            config = default_config("transformer", train_frac=frac, steps=steps)
            run = train(task, config, run_dir=Path(tmp) / task.name)
            result = compare_run(run.run_dir, top_k=3, progress=False)
            row += (f"{str(run.memorization_step or '–'):>9s} {str(run.grok_step or '–'):>7s} "
                    f"{run.final['test_acc']:6.1%}  ")  # fmt: skip
            match = said(result.match)
            if len(row) + len(match) > WIDTH:  # the match on a line of its own
                row, match = row.rstrip(), "\n" + " " * 10 + "match: " + match
            print(row + match, flush=True)
    print(f"\n{time.perf_counter() - t0:.0f} s in all")


if __name__ == "__main__":
    args_parser = parser(__doc__)
    args_parser.add_argument("--frac", type=fraction, default=0.8, metavar="F",
                             help="share of the pairs to train on (default 0.8)")  # fmt: skip
    args = args_parser.parse_args()
    main(args.quick, args.frac)
