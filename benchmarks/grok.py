"""Do the defaults show grokking, and how fast? Modular addition at the papers' 30% split.

For seeds 0–9 at p = 97 with the defaults of ``synthcmp train`` (transformer), and one seed
at each of p = 31, 53 and 113 (each at its default training fraction), it prints the
memorization step (train accuracy 100%), the test accuracy then, the grok step (test
accuracy ≥ 99%), their ratio and the wall seconds to grok, then checks the targets:

* every seed at p = 97 groks;
* test accuracy at the memorization step ≤ 10% (memorization first, not generalization
  lagging behind training);
* grok step ≥ 3 × memorization step (a plateau);
* median wall time to grok ≤ 15 s and worst ≤ 40 s.

Each run is a fresh subprocess, run one after another, so timings are not shared. Optional:
the MLP defaults (``--mlp``) and Nanda et al.'s recipe (``--reference``, minutes).

Usage: ``python benchmarks/grok.py [--seeds 10] [--mlp] [--reference] [--max-seconds 120]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def child(spec: dict) -> dict:
    """One training run in this process; its numbers as a dict."""
    from neural.config import REFERENCE, default_config
    from neural.train import train
    from taskcore.registry import get_task
    from taskcore.table import default_train_frac

    task = get_task("modadd", p=spec["p"])
    if spec["recipe"] == "reference":
        config = REFERENCE.replace(seed=spec["seed"], stop_after_grok=0)
    else:
        config = default_config(spec["recipe"], seed=spec["seed"],
                                train_frac=default_train_frac(task), stop_after_grok=0)  # fmt: skip
    seen: dict = {}

    def on_step(info):
        for event in info.events:
            seen[event] = (info.step, info.test_acc, info.seconds)
        if "grokked" in seen or info.seconds > spec["max_seconds"]:
            raise KeyboardInterrupt  # the numbers are in; nothing after grokking is timed

    t0 = time.perf_counter()
    try:
        train(task, config, on_step=on_step)
    except KeyboardInterrupt:
        pass
    mem, grok = seen.get("memorized"), seen.get("grokked")
    return {
        "recipe": spec["recipe"], "p": spec["p"], "seed": spec["seed"],
        "frac": config.train_frac, "mem_step": mem and mem[0], "mem_test": mem and mem[1],
        "grok_step": grok and grok[0], "grok_s": grok and grok[2],
        "wall_s": time.perf_counter() - t0,
    }  # fmt: skip


def spawn(spec: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def fmt(x, spec="{:.1f}") -> str:
    return "–" if x is None else spec.format(x)


def row(r: dict) -> str:
    ratio = r["grok_step"] / r["mem_step"] if r["grok_step"] and r["mem_step"] else None
    return (
        f"{r['recipe']:<12}{r['p']:>4}{r['seed']:>5}{r['frac']:>6.0%}"
        f"{fmt(r['mem_step'], '{}'):>9}{fmt(r['mem_test'], '{:.1%}'):>11}"
        f"{fmt(r['grok_step'], '{}'):>10}{fmt(ratio, '{:.1f}×'):>7}{fmt(r['grok_s']):>8}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--max-seconds", type=float, default=120.0, help="cap for each run")
    parser.add_argument("--mlp", action="store_true", help="also the MLP defaults, 3 seeds")
    parser.add_argument("--reference", action="store_true", help="also Nanda et al.'s recipe")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return

    cap = {"max_seconds": args.max_seconds}
    specs = [{"recipe": "transformer", "p": 97, "seed": s, **cap} for s in range(args.seeds)]
    specs += [{"recipe": "transformer", "p": p, "seed": 0, **cap} for p in (31, 53, 113)]
    if args.mlp:
        specs += [{"recipe": "mlp", "p": 97, "seed": s, **cap} for s in range(3)]
    if args.reference:
        specs += [{"recipe": "reference", "p": 97, "seed": 0, **{"max_seconds": 1200.0}}]
    print(f"modadd · {os.cpu_count()} CPUs · load average {os.getloadavg()[0]:.1f} · "
          "one torch thread per run, one run at a time")  # fmt: skip
    head = (f"{'recipe':<12}{'p':>4}{'seed':>5}{'train':>6}{'mem step':>9}{'test then':>11}"
            f"{'grok step':>10}{'ratio':>7}{'grok s':>8}")  # fmt: skip
    print(head)
    print("-" * len(head))
    results = []
    for spec in specs:
        results.append(spawn(spec))
        print(row(results[-1]), flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")

    ours = [r for r in results if r["recipe"] == "transformer" and r["p"] == 97]
    grokked = [r for r in ours if r["grok_s"] is not None]
    times = [r["grok_s"] for r in grokked]
    checks = [
        (f"{len(grokked)} of {len(ours)} seeds grok", len(grokked) == len(ours)),
        ("test accuracy at memorization ≤ 10%: worst "
         f"{fmt(max((1.0 if r['mem_test'] is None else r['mem_test']) for r in ours), '{:.1%}')}",
         all(r["mem_test"] is not None and r["mem_test"] <= 0.10 for r in ours)),
        ("grok step ≥ 3 × memorization step: least "
         f"{fmt(min(r['grok_step'] / r['mem_step'] for r in grokked) if grokked else None, '{:.1f}×')}",
         all(r["mem_step"] and r["grok_step"] >= 3 * r["mem_step"] for r in grokked)),
        (f"median time to grok {fmt(statistics.median(times) if times else None)} s (≤ 15)",
         bool(times) and statistics.median(times) <= 15),
        (f"worst time to grok {fmt(max(times) if times else None)} s (≤ 40)",
         bool(times) and max(times) <= 40),
    ]  # fmt: skip
    print(f"\np = 97, defaults, seeds 0–{len(ours) - 1}:")
    for text, ok in checks:
        print(f"  {'met ' if ok else 'MISSED'} {text}")


if __name__ == "__main__":
    main()
