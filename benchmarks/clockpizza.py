"""Clock or Pizza on trained networks: does ordinary attention learn the Clock and constant
attention (Zhong et al.'s attention rate 0) the Pizza, as Zhong et al. 2023 found?

For each model it trains ``--seeds`` seeds of modadd at ``--p`` and ``--frac`` (with the
model's defaults, or ``--weight-decay``), reads each network's circuit, and prints Zhong et
al.'s two measures and the algorithm they point to (:mod:`compare.clockpizza`), then how many
seeds of each model read Clock, Pizza or neither. Gradient symmetricity is 1 by construction
under constant attention; there distance irrelevance alone decides (the module says why).

Usage::

    python benchmarks/clockpizza.py                                  # p = 59, 80%, 3 seeds
    python benchmarks/clockpizza.py --frac 0.3 --weight-decay 1      # another setting
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compare import compare_run  # noqa: E402
from compare.clockpizza import clock_pizza  # noqa: E402
from neural import default_config, train  # noqa: E402
from taskcore.registry import get_task  # noqa: E402

MODELS = ("transformer", "constant-attention")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--p", type=int, default=59)
    ap.add_argument("--frac", type=float, default=0.8)
    ap.add_argument("--weight-decay", type=float, default=4.0)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    task = get_task("modadd", p=args.p)
    out = Path(tempfile.mkdtemp(prefix="bench-clockpizza-"))
    print(f"modadd p = {args.p}, {args.frac:.0%} of the pairs, weight decay {args.weight_decay:g}")
    print(f"{'model':<19} {'seed':>4} {'grok':>5} {'s':>5}  {'DI':>5} {'GS':>5}  algorithm")
    counts: dict[str, Counter] = {m: Counter() for m in MODELS}
    for model in MODELS:
        for seed in range(args.seeds):
            config = default_config(model, seed=seed, train_frac=args.frac,
                                    weight_decay=args.weight_decay)  # fmt: skip
            t0 = time.perf_counter()
            run = train(task, config, run_dir=out / f"{model}-{seed}")
            seconds = time.perf_counter() - t0
            result = compare_run(run.run_dir, top_k=1, progress=False)
            c = result.circuit
            cp = clock_pizza(run.model, result.probe.logits, task.table,
                             c.basis if c.found else None, c.node if c.found else None)  # fmt: skip
            said = cp.algorithm or f"– ({cp.why})"
            counts[model][cp.algorithm or "not read"] += 1
            print(f"{model:<19} {seed:>4} {run.grok_step or '–':>5} {seconds:>5.1f}  "
                  f"{cp.distance_irrelevance:>5.2f} {cp.gradient_symmetricity:>5.2f}  {said}")  # fmt: skip
    for model, count in counts.items():
        print(f"{model}: " + ", ".join(f"{k} {v}" for k, v in sorted(count.items())))


if __name__ == "__main__":
    main()
