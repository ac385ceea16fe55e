"""How fast does modular addition grok? The defaults against Nanda et al.'s recipe.

Runs ``modadd`` at p = 97 with

* the defaults of ``synthcmp train`` (transformer), for seeds 0, 1, 2;
* the reference recipe of Nanda et al. 2023 (d_model 128, 4 heads, d_mlp 512, AdamW
  lr 1e-3, weight decay 1, betas (0.9, 0.98), full batch, 30% train), capped at
  ``--max-seconds`` — at the cap it reports the step and test accuracy it reached;
* the MLP defaults (``--model mlp``), for seed 0.

Each run is a fresh subprocess, so its peak memory (max RSS) is its own. For each it prints
steps/s, the step and wall time of memorization (train acc 100%) and of grokking (test acc
≥ 99%), CPU time, peak memory, and at the end the ratio of the wall times to grok.

The machine's load average is printed too: on a shared machine wall times are inflated,
while step counts are not (training is deterministic), and CPU seconds much less so.

Usage: ``python benchmarks/grok.py [--max-seconds 600] [--seeds 3] [--p 97] [--skip-reference]``

Measured (2-core x86 VM, one torch thread, load average 0.7 at the start, 1.1 at the end)::

    recipe       seed  steps  steps/s mem step  mem s grok step  grok s  wall s   cpu s test acc peak MB
    transformer     0    790     63.2      270    4.1       490     7.2    12.5    12.5    99.7%     357
    transformer     1    550     62.3      180    2.6       250     3.6     8.8     8.8   100.0%     361
    transformer     2    550     59.3      180    2.7       250     3.8     9.3     9.3   100.0%     359
    mlp             0    690    108.5       70    0.6       390     3.1     6.4     6.4   100.0%     352
    reference       0   9980     15.8      140    9.1      9680   613.6   633.6   632.8    99.1%     500
    defaults: 3 of 3 seeds grok; mean 4.9 s, worst 7.2 s to grok (wall)
    reference groks at step 9680 in 613.6 s: 126× the defaults' wall time

("wall s" includes the 300 steps each run trains after grokking.)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class Cap(Exception):
    pass


def child(spec: dict) -> dict:
    """Run one training in this process and return its numbers."""
    from neural.config import REFERENCE, default_config
    from neural.train import train
    from taskcore.table import DEFAULT_TRAIN_FRAC, get_task

    task = get_task("modadd", p=spec["p"])
    if spec["recipe"] == "reference":
        # the paper trains 40k steps; here it stops, like the defaults, 300 steps after grokking
        config = REFERENCE.replace(seed=spec["seed"], threads=spec["threads"], stop_after_grok=300)
    else:
        config = default_config(spec["recipe"], seed=spec["seed"], train_frac=DEFAULT_TRAIN_FRAC)
    events: dict = {}
    last: dict = {}

    def on_step(info):
        last.update(step=info.step, test_acc=info.test_acc, train_acc=info.train_acc)
        for event in info.events:
            events[event] = (info.step, info.seconds)
        if info.seconds > spec["max_seconds"]:
            raise Cap

    cpu0, t0 = time.process_time(), time.perf_counter()
    capped = False
    try:
        run = train(task, config, on_step=on_step)
        steps, final_test = run.steps, run.final["test_acc"]
    except Cap:
        capped, steps, final_test = True, last["step"], last["test_acc"]
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    mem, grok = events.get("memorized"), events.get("grokked")
    return {
        "recipe": spec["recipe"], "seed": spec["seed"], "steps": steps, "wall_s": wall,
        "cpu_s": cpu, "steps_per_s": steps / wall, "capped": capped, "final_test_acc": final_test,
        "mem_step": mem and mem[0], "mem_s": mem and mem[1],
        "grok_step": grok and grok[0], "grok_s": grok and grok[1],
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": config.threads, "train_frac": config.train_frac,
        "model": config.model.to_json(), "lr": config.lr, "grokfast": config.grokfast_lambda,
    }  # fmt: skip


def spawn(spec: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def fmt(x, spec="{:.1f}") -> str:
    return "–" if x is None else spec.format(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--p", type=int, default=97)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=600.0, help="cap for each run")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--skip-mlp", action="store_true")
    parser.add_argument("--reference-threads", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return

    base = {"p": args.p, "max_seconds": args.max_seconds, "threads": args.reference_threads}
    specs = [{**base, "recipe": "transformer", "seed": s} for s in range(args.seeds)]
    if not args.skip_mlp:
        specs.append({**base, "recipe": "mlp", "seed": 0})
    if not args.skip_reference:
        specs.append({**base, "recipe": "reference", "seed": 0})

    print(f"modadd p = {args.p} · {os.cpu_count()} CPUs · load average {os.getloadavg()[0]:.1f}")
    head = (
        f"{'recipe':<12}{'seed':>5}{'steps':>7}{'steps/s':>9}{'mem step':>9}{'mem s':>7}"
        f"{'grok step':>10}{'grok s':>8}{'wall s':>8}{'cpu s':>8}{'test acc':>9}{'peak MB':>8}"
    )
    print(head)
    print("-" * len(head))
    results = []
    for spec in specs:
        r = spawn(spec)
        results.append(r)
        print(
            f"{r['recipe']:<12}{r['seed']:>5}{r['steps']:>7}{r['steps_per_s']:>9.1f}"
            f"{fmt(r['mem_step'], '{}'):>9}{fmt(r['mem_s']):>7}{fmt(r['grok_step'], '{}'):>10}"
            f"{fmt(r['grok_s']):>8}{r['wall_s']:>8.1f}{r['cpu_s']:>8.1f}"
            f"{100 * r['final_test_acc']:>8.1f}%{r['peak_mb']:>8.0f}"
            + ("  (capped)" if r["capped"] else ""),
            flush=True,
        )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")

    ours = [r for r in results if r["recipe"] == "transformer"]
    grokked = [r for r in ours if r["grok_s"] is not None]
    print(f"defaults: {len(grokked)} of {len(ours)} seeds grok; ", end="")
    if grokked:
        mean = sum(r["grok_s"] for r in grokked) / len(grokked)
        worst = max(r["grok_s"] for r in grokked)
        print(f"mean {mean:.1f} s, worst {worst:.1f} s to grok (wall)")
        ref = next((r for r in results if r["recipe"] == "reference"), None)
        if ref is not None:
            if ref["grok_s"] is not None:
                print(f"reference groks at step {ref['grok_step']} in {ref['grok_s']:.1f} s: "
                      f"{ref['grok_s'] / mean:.0f}× the defaults' wall time")  # fmt: skip
            else:
                print(
                    f"reference did not grok within {args.max_seconds:.0f} s "
                    f"(step {ref['steps']}, test acc {100 * ref['final_test_acc']:.1f}%): "
                    f"> {ref['wall_s'] / mean:.0f}× the defaults' wall time"
                )
    else:
        print("none grokked")


if __name__ == "__main__":
    main()
