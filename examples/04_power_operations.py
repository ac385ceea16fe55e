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

from compare import compare_run
from neural import default_config, train
from taskcore.table import POWER_TASKS, get_task


def main(quick: bool, frac: float) -> None:
    p, steps = (11, 300) if quick else (23, 1500)
    names = POWER_TASKS[:3] if quick else POWER_TASKS
    print(f"p = {p}, {frac:.0%} of the pairs for training, at most {steps} steps each\n")
    print(f"{'task':9s} {'f(x, y)':41s} {'memorized':>9s} {'grokked':>8s} {'test':>6s}  match")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            task = get_task(name, p=p)
            config = default_config("transformer", train_frac=frac, steps=steps)
            run = train(task, config, run_dir=Path(tmp) / name)
            result = compare_run(run.run_dir, top_k=3, progress=False)
            m = result.match
            said = (f"{m.program} ({m.behaviour:.0%} agreement)" if m.implements
                    else "memorization")  # fmt: skip
            print(f"{name:9s} {task.formula:41s} {str(run.memorization_step or '–'):>9s} "
                  f"{str(run.grok_step or '–'):>8s} {run.final['test_acc']:6.1%}  {said}")  # fmt: skip
    print(f"\n{time.perf_counter() - t0:.0f} s in all")


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    frac = float(sys.argv[sys.argv.index("--frac") + 1]) if "--frac" in sys.argv else 0.8
    main(quick, frac)
