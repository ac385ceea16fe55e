"""Universality: what do different seeds and architectures of one task have in common?

Networks trained on one task from different random starts, even of different kinds, are said to
converge on the same representations and the same algorithm. For modular addition the
evidence is mixed in an instructive way, and this script measures each part of it:

* the *program*: does every run that groks implement x + y?
* the *features*: does every run use the same key frequencies ω_k = 2πk/p, and are its
  layers alike (linear CKA, mutual nearest neighbours — each against the same score with
  the inputs shuffled, which is what it is by chance)?
* the *algorithm*: is the share of each layer's variance that is a function of u = x + y the
  same in every run (it does not care which frequencies carry u)? And is it the Clock
  (angles added) or the Pizza (embeddings averaged), by Zhong et al.'s two measures?

Seeds of the transformer and the MLP are trained (a process per core), aligned by
compare/universality, and the script reads its own numbers back: what converges and what
does not.

    python examples/06_universality.py            # p = 59, 4 seeds of each model, ~1-2 minutes
    python examples/06_universality.py --quick    # p = 17, 2 seeds of each, seconds
"""

from __future__ import annotations

import os
import tempfile
import textwrap
import time
from pathlib import Path

from _common import parse_quick

from compare.universality import LOGITS, align_runs
from compare.universality_verdict import ALIGNED, NODE_HELD, span
from neural import default_config
from neural.seeds import train_seeds
from taskcore.registry import get_task

MODELS = ("transformer", "mlp")


def rng(values: list[float]) -> str:
    values = [v for v in values if v == v]  # without NaN
    return span(values) if values else "–"


def main(quick: bool) -> None:
    p, frac, seeds = (17, 0.8, 2) if quick else (59, 0.3, 4)
    task = get_task("modadd", p=p)
    # --quick: tiny runs in this process (starting worker processes would take longer)
    workers = 1 if quick else len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    after = {"stop_after_grok": 50} if quick else {}
    print(f"Task: {task.formula} with p = {p}; {seeds} seeds each of the {' and the '.join(MODELS)},")
    print(f"each on its own {frac:.0%} of the {p * p} pairs (the seed draws the split and the init).")
    with tempfile.TemporaryDirectory() as tmp:
        run_dirs = []
        for model in MODELS:
            configs = [default_config(model, seed=s, train_frac=frac, checkpoints=4, **after)
                       for s in range(seeds)]  # fmt: skip
            folders = [Path(tmp) / f"{model}-s{s}" for s in range(seeds)]
            t0 = time.perf_counter()
            runs = train_seeds(task, configs, folders, workers=workers)
            grokked = [r.grok_step for r in runs if r.grok_step is not None]
            print(f"  {model:11s}: {len(grokked)}/{seeds} grokked (steps {sorted(grokked)}) "
                  f"in {time.perf_counter() - t0:.0f} s")  # fmt: skip
            run_dirs += folders
        t0 = time.perf_counter()
        result = align_runs(run_dirs, workers=workers)
        print(f"  analysed and aligned in {time.perf_counter() - t0:.0f} s\n")
    teach(result)


def teach(result) -> None:
    runs = result.runs
    implementing = [r for r in runs if r.implements]
    programs = sorted({r.program for r in implementing})

    print("What converges")
    if not implementing:
        print("  Nothing: no run implements a program, so there is no algorithm to share.")
    else:
        print(f"  The program: {len(implementing)}/{len(runs)} runs implement "
              f"{' or '.join(programs)}.")  # fmt: skip
        if result.node:
            share = [r.node_share.get(LOGITS, float("nan")) for r in implementing]
            base = [r.node_share_baseline.get(LOGITS, float("nan")) for r in implementing]
            print(f"  The algorithm's node: in those runs {rng(share)} of the logits' variance is "
                  f"a function of")  # fmt: skip
            print(f"    u = {result.node} alone (with u shuffled over the inputs: {rng(base)}).")

    print("\nWhat does not")
    for r in runs:
        print(f"  {r.model:11s} seed {r.seed}: key frequencies "
              f"{', '.join(map(str, r.key_frequencies)) or 'none (no circuit)'}")  # fmt: skip
    if result.frequencies is not None:
        f = result.frequencies
        print(f"  Two runs' frequency sets overlap by Jaccard {f.mean:.2f} on average "
              f"(random sets of those sizes: {f.baseline_mean:.2f}).")  # fmt: skip
    for name, label in (("mlp.post", "MLP neurons"), (LOGITS, "logits")):
        a = result.layer(name, "cka")
        if a is not None:
            print(f"  Linear CKA of the {label} between two runs: {a.mean:.2f} on average "
                  f"(inputs shuffled: {a.baseline_mean:.2f}).")  # fmt: skip
    logits = result.layer(LOGITS, "cka")
    shares = [r.node_share.get(LOGITS, float("nan")) for r in implementing]
    # the verdict's own thresholds (compare/universality_verdict.py), so the two agree
    above = logits.mean - logits.baseline_mean if logits is not None else float("nan")
    if shares and min(shares) >= NODE_HELD and above < ALIGNED:
        print("  So: the raw layers align little, while the node share, blind to which circles")
        print("  carry u, is high in every run — the same algorithm on different features.")
    elif above >= ALIGNED:
        print("  So: here even the raw layers align well above their baseline.")

    measured = [r for r in runs if r.algorithm]
    if measured:
        print("\nClock or Pizza (distance irrelevance DI, gradient symmetricity GS)")
        for model in result.models:
            mine = [r for r in measured if r.model == model]
            if mine:
                kinds = ", ".join(sorted({r.algorithm for r in mine}))
                print(f"  {model:11s}: {kinds} — DI {rng([r.distance_irrelevance for r in mine])}, "
                      f"GS {rng([r.gradient_symmetricity for r in mine])}")  # fmt: skip
        for name, ref in result.references.items():
            print(f"  hand-built {name:5s}: DI {ref.distance_irrelevance:.2f}, "
                  f"GS {ref.gradient_symmetricity:.2f}")  # fmt: skip

    print("\nVerdict (built from the numbers above):")
    print(textwrap.fill(result.verdict[0], 96, initial_indent="  ", subsequent_indent="  "))


if __name__ == "__main__":
    main(parse_quick(__doc__))
