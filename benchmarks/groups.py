"""Group tasks at the defaults: how fast S4 and S5 composition grok, and which irreps they use.

For s4mul and s5mul, seeds 0–2, with the defaults of ``synthcmp run`` (Chughtai et al.'s MLP
for group tasks, the default training fraction), it trains until grokking (then the usual 300
steps of cleanup), extracts the circuit in the group's irreducible representations, and
prints the memorization and grok steps, the seconds to grok, the key irreps with their share
of the embedding, and the logit model's variance explained. Chughtai et al. 2023 find the
standard representation or its sign twist carrying most of the embedding on many seeds;
the last column says what these seeds pick.

Each run is a fresh subprocess, one at a time. Usage: ``python benchmarks/groups.py
[--seeds 3] [--tasks s4mul s5mul] [--max-seconds 300]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def child(spec: dict) -> dict:
    from compare import analyse_model
    from neural.config import default_config, default_model
    from neural.train import train
    from taskcore.registry import get_task
    from taskcore.table import default_train_frac

    task = get_task(spec["task"])
    config = default_config(default_model(task), seed=spec["seed"],
                            train_frac=default_train_frac(task))  # fmt: skip
    seen: dict = {}

    def on_step(info):
        for event in info.events:
            seen[event] = (info.step, info.test_acc, info.seconds)
        if info.seconds > spec["max_seconds"]:
            raise KeyboardInterrupt

    t0 = time.perf_counter()
    run = None
    try:
        run = train(task, config, on_step=on_step)
    except KeyboardInterrupt:
        pass
    wall = time.perf_counter() - t0
    out = {"task": spec["task"], "seed": spec["seed"], "model": config.model.name,
           "frac": config.train_frac, "wall_s": wall,
           "mem_step": seen.get("memorized", (None,))[0],
           "mem_test": seen.get("memorized", (None, None))[1],
           "grok_step": seen.get("grokked", (None,))[0],
           "grok_s": seen.get("grokked", (None, None, None))[2], "irreps": [], "fve": None}  # fmt: skip
    if run is not None:
        split = task.split(config.train_frac, config.seed)
        found = analyse_model(run.model, task, split, [{"expr": task.expr, "kind": "program",
                                                         "bits": 0.0}])  # fmt: skip
        c = found.circuit
        out["irreps"] = [(ir["name"], ir["embedding_share"]) for ir in c.key_irreps]
        out["fve"], out["faithful"] = c.fve, c.faithfulness
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tasks", nargs="+", default=["s4mul", "s5mul"])
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    print(f"{os.cpu_count()} CPUs · load average {os.getloadavg()[0]:.1f} · one run at a time")
    head = (f"{'task':<7}{'seed':>5}{'model':>6}{'train':>6}{'mem':>6}{'test@mem':>9}"
            f"{'grok':>6}{'grok s':>8}{'fve':>7}  key irreps (share of the embedding)")  # fmt: skip
    print(head)
    print("-" * len(head))
    for name in args.tasks:
        for seed in range(args.seeds):
            spec = {"task": name, "seed": seed, "max_seconds": args.max_seconds}
            done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)],
                                  capture_output=True, text=True, check=True)  # fmt: skip
            r = json.loads(done.stdout.strip().splitlines()[-1])
            irreps = ", ".join(f"{n} {s:.0%}" for n, s in sorted(r["irreps"], key=lambda t: -t[1]))
            print(f"{r['task']:<7}{r['seed']:>5}{r['model']:>6}{r['frac']:>6.0%}"
                  f"{r['mem_step'] if r['mem_step'] is not None else '–':>6}"
                  f"{(format(r['mem_test'], '.1%') if r['mem_test'] is not None else '–'):>9}"
                  f"{r['grok_step'] if r['grok_step'] is not None else '–':>6}"
                  f"{(format(r['grok_s'], '.1f') if r['grok_s'] is not None else '–'):>8}"
                  f"{(format(r['fve'], '.0%') if r['fve'] is not None else '–'):>7}  "
                  f"{irreps or '–'}", flush=True)  # fmt: skip
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
