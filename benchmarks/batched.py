"""Where does training many seeds as one batched model pay? Seeds per second, batched vs one
after another, on this machine.

For each model (the defaults of ``synthcmp train``) and each N it trains seeds 0…N−1 of
modadd at the default split for a fixed number of steps (no early stop, nothing stored),
once one seed after another with :func:`neural.train.train`, once as one batched model with
:func:`neural.train.train_batched`, and (on the CPU) once as :func:`neural.seeds.train_seeds`
does it there — a process per core, one run at a time in each (that column also pays for
starting the processes and writing each run folder, as `synthcmp align` does; "–" where it
was not run: one seed, or a GPU) — and prints the wall time per seed-step, the throughput (seeds per second at that many steps) and the batched speed-up. ``--grok``
instead trains N seeds of the default configuration *to grokking* as one batch (the goal on
one H100: 256 seeds of p = 97 grokked in ≤ 60 s) and prints how many grokked and the wall time.

The order alternates (sequential first for the first model, batched first for the next), and
both sides use the same thread count (the trainer's default: one), so timings are comparable
on a busy machine; still, compare numbers from one invocation only.

Usage::

    python benchmarks/batched.py                       # CPU: N = 1, 8; transformer and MLP
    python benchmarks/batched.py --device cuda         # GPU: N = 1, 64, 256
    python benchmarks/batched.py --device cuda --grok --seeds 256
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def configs(model: str, n_seeds: int, steps: int | None, device: str, task):
    from neural.config import default_config
    from taskcore.table import default_train_frac

    changes = {"device": device, "train_frac": default_train_frac(task), "checkpoints": 2}
    if steps is not None:  # a fixed length: no early stop, so both sides do the same work
        changes.update(steps=steps, stop_after_grok=None)
    return [default_config(model, seed=s, **changes) for s in range(n_seeds)]


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str) -> tuple[float, object]:
    sync(device)
    t0 = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - t0, out


def compare(model: str, n_seeds: int, steps: int, device: str, task, batched_first: bool,
            workers: int) -> dict:  # fmt: skip
    from neural.seeds import train_seeds
    from neural.train import train, train_batched

    cfgs = configs(model, n_seeds, steps, device, task)
    train_batched(task, cfgs[:1])  # warm up: first-call costs (allocator, kernels) not timed

    def sequential():
        return [train(task, c) for c in cfgs]

    def batched():
        return train_batched(task, cfgs)

    def processes():  # the CPU's choice: a process per core, each run on one thread
        with tempfile.TemporaryDirectory() as tmp:
            folders = [Path(tmp) / f"s{c.seed}" for c in cfgs]
            return train_seeds(task, cfgs, folders, batched=False, workers=workers)

    order = [("batched", batched), ("sequential", sequential)]
    if not batched_first:
        order.reverse()
    if workers > 1 and n_seeds > 1:
        order.append(("processes", processes))
    seconds = {name: timed(fn, device)[0] for name, fn in order}  # no "processes": not run
    seed_steps = n_seeds * (steps + 1)  # step 0 … steps: steps + 1 forward passes each
    return {
        "model": model, "seeds": n_seeds, "steps": steps,
        **{f"{k}_ms_per_seed_step": 1e3 * v / seed_steps for k, v in seconds.items()},
        **{f"{k}_seeds_per_s": n_seeds / v for k, v in seconds.items()},
        "speedup": seconds["sequential"] / seconds["batched"],
    }  # fmt: skip


def procs_cell(row: dict) -> str:
    """Seeds/s with a process per core, or "–" where that was not run (one seed, a GPU)."""
    value = row.get("processes_seeds_per_s")
    return "–" if value is None else f"{value:.3f}"


def grok(model: str, n_seeds: int, device: str, task) -> dict:
    from neural.train import train_batched

    cfgs = configs(model, n_seeds, None, device, task)
    train_batched(task, configs(model, 1, 5, device, task))  # warm up
    seconds, runs = timed(lambda: train_batched(task, cfgs), device)
    grokked = [r for r in runs if r.grok_step is not None]
    steps = sorted(r.grok_step for r in grokked)
    return {"model": model, "seeds": n_seeds, "grokked": len(grokked), "seconds": seconds,
            "median_grok_step": steps[len(steps) // 2] if steps else None,
            "steps_trained_max": max(r.steps for r in runs)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--p", type=int, default=97)
    parser.add_argument("--seeds", default=None, help="comma-separated N (default: 1,8 on the "
                        "CPU, 1,64,256 on a GPU; --grok: 8 / 256)")  # fmt: skip
    parser.add_argument("--models", default="transformer,mlp")
    parser.add_argument("--steps", type=int, default=100, help="timed steps per seed")
    parser.add_argument("--grok", action="store_true", help="train N seeds to grokking, batched")
    args = parser.parse_args()

    import torch

    from neural.train import check_device
    from taskcore.registry import get_task

    check_device(args.device)
    gpu = torch.device(args.device).type != "cpu"
    default = ("256" if gpu else "8") if args.grok else ("1,64,256" if gpu else "1,8")
    seeds = [int(s) for s in (args.seeds or default).split(",")]
    task = get_task("modadd", p=args.p)
    where = torch.cuda.get_device_name(args.device) if args.device.startswith("cuda") else "CPU"
    print(f"modadd p = {args.p} · {where} · torch {torch.__version__} · "
          f"{torch.get_num_threads()} CPU threads available, the trainer uses 1", flush=True)  # fmt: skip
    models = args.models.split(",")
    if args.grok:
        for model in models:
            for n in seeds:
                r = grok(model, n, args.device, task)
                print(f"{model:11s} N = {n:4d}: {r['grokked']}/{n} grokked in "
                      f"{r['seconds']:.1f} s (median grok step {r['median_grok_step']}, "
                      f"longest seed {r['steps_trained_max']} steps)", flush=True)  # fmt: skip
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = 1 if gpu else max(1, cores or 1)
    procs = f"{workers} procs"
    print(f"{'':17s}{'ms per seed-step':^26s}  {'seeds/s at ' + str(args.steps) + ' steps':^36s}",
          flush=True)  # fmt: skip
    print(f"{'model':11s} {'N':>4s}  {'sequential':>12s} {'batched':>12s}  {'sequential':>11s} "
          f"{'batched':>11s} {procs:>11s}  {'batched ×':>9s}", flush=True)  # fmt: skip
    for i, model in enumerate(models):
        for n in seeds:
            r = compare(model, n, args.steps, args.device, task, bool(i % 2), workers)
            print(f"{model:11s} {n:4d}  {r['sequential_ms_per_seed_step']:12.2f} "
                  f"{r['batched_ms_per_seed_step']:12.2f}  {r['sequential_seeds_per_s']:11.3f} "
                  f"{r['batched_seeds_per_s']:11.3f} {procs_cell(r):>11s}  "
                  f"{r['speedup']:8.2f}×", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
