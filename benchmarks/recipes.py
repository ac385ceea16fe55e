"""Which operations does each learner's recipe learn, given a long budget? Power et al.'s nine
operations at p = 47 and two of theirs in S5, at a large training fraction.

For each recipe and operation, one network is trained (no synthesis, no compare: only the
question "does it generalize, and when") for up to ``--steps`` steps, stopping 300 steps
after it groks. It prints per run: the grok step (test accuracy ≥ 99%), the final and the
best test accuracy, whether the test accuracy was still rising at the end
(:func:`taskcore.events.still_rising`) and the seconds, then per recipe how many operations
it learned. The recipes:

* ``transformer`` — the trainer's defaults (one layer, width 128, d_mlp 128, AdamW lr 0.01,
  weight decay 4 ramped over 100 steps, full batch; ``docs/defaults.md``);
* ``power`` — Power et al. 2022's setting: two layers, width 128, 4 heads, d_mlp 512,
  AdamW lr 10⁻³, β = (0.9, 0.98), weight decay 1, 10 warmup steps, minibatches of 512 pairs
  (or half the training set, if that is smaller);
* ``mlp`` — the MLP's defaults (Chughtai et al.'s shape: embeddings concatenated, a quadratic
  hidden layer; AdamW lr 0.01, weight decay 1, full batch).

Each run is a run folder under ``--out`` (default ``benchmarks/out/recipes``): a rerun reads
the finished ones back and resumes an interrupted one, so the benchmark can be stopped and
restarted. ``--curves FILE`` draws the training curves of the runs that never grokked
(the sweep report's ``never.png`` figure).

Usage: ``python benchmarks/recipes.py [--recipes transformer,power,mlp] [--ops modcube,...]
[--frac 0.9] [--s5-frac 0.5] [--steps 30000] [--seed 0] [--curves never.png]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NINE = ("modadd", "modsub", "moddiv", "modsq", "modcube", "modquad", "modcube2", "modquadx",
        "modcond")  # fmt: skip
S5 = ("s5conj", "s5aba")
RECIPES = ("transformer", "power", "mlp")


def config_of(recipe: str, task, frac: float, steps: int, seed: int):
    """The TrainConfig of ``recipe`` for ``task``."""
    from neural.config import default_config

    if recipe in ("transformer", "mlp"):
        return default_config(recipe, train_frac=frac, steps=steps, seed=seed)
    if recipe == "power":
        batch = min(512, max(1, task.split(frac, seed).n_train // 2))
        return default_config(
            "transformer", train_frac=frac, steps=steps, seed=seed, n_layers=2, d_model=128,
            n_heads=4, d_mlp=512, init_scale=1.0, lr=1e-3, weight_decay=1.0,
            betas=(0.9, 0.98), warmup=10, decay_warmup=0, lr_after_grok=1.0, batch_size=batch,
        )  # fmt: skip
    raise SystemExit(f"unknown recipe {recipe!r}: one of {', '.join(RECIPES)}")


def run_one(recipe: str, op: str, frac: float, steps: int, seed: int, out: Path) -> dict:
    """Train (or read back, or resume) one run; its numbers."""
    from neural import store
    from neural.train import train
    from taskcore.registry import get_task

    task = get_task(op, p=47) if op.startswith("mod") else get_task(op)
    config = config_of(recipe, task, frac, steps, seed)
    run_dir = out / f"{recipe}-{op}-f{frac:g}-s{seed}-st{steps}"
    summary = store.read_summary(run_dir) if run_dir.is_dir() else {}
    if summary.get("status") != "finished":
        t0 = time.perf_counter()
        resume = (run_dir / "state.pt").is_file()
        train(task, config, run_dir=run_dir, resume=resume, force=not resume)
        print(f"  trained {run_dir.name} in {time.perf_counter() - t0:.0f} s", flush=True)
        summary = store.read_summary(run_dir)
    metrics = store.read_metrics(run_dir)
    return {
        "recipe": recipe, "op": op, "frac": frac, "seed": seed, "steps": steps,
        "run_dir": str(run_dir), "grok_step": summary.get("grok_step"),
        "memorization_step": summary.get("memorization_step"),
        "steps_trained": metrics[-1]["step"] if metrics else 0,
        "final_test_acc": summary["final"]["test_acc"],
        "best_test_acc": max((m["test_acc"] for m in metrics), default=None),
        "rising": bool(summary.get("test_acc_rising")), "seconds": summary.get("seconds"),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--ops", default=",".join(NINE + S5))
    parser.add_argument("--frac", type=float, default=0.9, help="for the nine mod-47 operations")
    parser.add_argument("--s5-frac", type=float, default=0.5, help="for the S5 operations")
    parser.add_argument("--steps", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/recipes"))
    parser.add_argument("--curves", type=Path, help="draw the never-grokked runs' curves here")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for recipe in args.recipes.split(","):
        for op in args.ops.split(","):
            frac = args.s5_frac if op.startswith("s5") else args.frac
            r = run_one(recipe, op, frac, args.steps, args.seed, args.out)
            results.append(r)
            grok = f"{r['grok_step']:>6,}" if r["grok_step"] is not None else " never"
            print(f"{recipe:12} {op:9} frac {frac:<4g} grok {grok}  final test "
                  f"{r['final_test_acc']:6.1%}  best {r['best_test_acc']:6.1%}  "
                  f"{'still rising' if r['rising'] else 'flat        '}  "
                  f"{r['steps_trained']:>6,} steps  {r['seconds']:7.1f} s", flush=True)  # fmt: skip
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    print()
    for recipe in args.recipes.split(","):
        mine = [r for r in results if r["recipe"] == recipe]
        learned = [r["op"] for r in mine if r["grok_step"] is not None]
        never = [r["op"] for r in mine if r["grok_step"] is None]
        print(f"{recipe}: learned {len(learned)}/{len(mine)}"
              + (f"; never within {args.steps:,} steps: {', '.join(never)}" if never else ""))  # fmt: skip
    if args.curves:
        draw_curves([r for r in results if r["grok_step"] is None], args.curves, args.steps)


def draw_curves(runs: list[dict], path: Path, steps: int) -> None:
    """The never-grokked runs' training curves, one panel per run (the sweep's figure)."""
    from types import SimpleNamespace

    from synthcmp.render.figures.sweep import never_panels, plot_never

    if not runs:
        print("every run grokked: no curves to draw")
        return
    panels = []
    for r in runs:
        # the fields of a sweep's NeverLearned that never_panels reads
        never = SimpleNamespace(task=f"{r['recipe']} · {r['op']}", p=None, frac=r["frac"],
                                final_test_acc=r["final_test_acc"], runs=[r["run_dir"]],
                                seeds=[r["seed"]], grokked=0)  # fmt: skip
        panels += never_panels(SimpleNamespace(never=[never]), Path("."))
    plot_never(panels, path, f"Runs that learned no rule within {steps:,} steps: training curves")
    print(f"curves: {path}")


if __name__ == "__main__":
    main()
