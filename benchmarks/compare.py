"""Time circuit extraction, matching and the progress measures on one trained run.

Targets (issue 6), on 2 CPU cores at p = 97:
* extraction + matching of one run (top 5 programs + the table) ≤ 5 s;
* progress measures over all checkpoints ≤ 30 s.

Usage::

    python benchmarks/compare.py RUN_DIR [RUN_DIR ...]    # existing run folders
    python benchmarks/compare.py --train modadd --p 97    # train one with the defaults first
    python benchmarks/compare.py --train modmul lookup --out /tmp/bench-runs

The synthesizer's result is loaded from (or saved to) each run's synth.json and is not
part of the timing. Prints one block per run: the circuit's numbers, the verdict, the
phases and the seconds of each part.

Measured (2 shared CPU cores, load average ≈ 3 from other jobs; transformer with the
neural defaults at p = 97, 1 torch thread; top 5 programs + the table):

    run                         ckpts  extract+match  progress   verdict
    modadd  (grok step 160)       51       1.2 s        4.2 s    implements x + y
    modmul  (grok step 200)       53       0.8 s        4.3 s    implements x * y (dlog basis)
    lookup  (4000 steps)          76       0.9 s        5.0 s    memorization — no compact circuit
    modadd, train frac 0.25       57       1.0 s        2.9 s    implements x + y
    modadd, mlp                   57       1.3 s        3.8 s    implements x + y

With 2 torch threads on the same busy machine the progress measures took 15.4 s instead
of 3.9 s (thread-pool overhead on tiny batches), hence one thread.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from compare import analyse_model, load_or_synthesize  # noqa: E402
from compare.progress import detect_phases, progress_measures  # noqa: E402
from neural import default_config, load_run, train  # noqa: E402
from taskcore.registry import get_task  # noqa: E402


def bench(run_dir: Path, top: int) -> dict:
    run = load_run(run_dir)
    t0 = time.perf_counter()
    synth_result = load_or_synthesize(run)
    t_synth = time.perf_counter() - t0
    programs = list(synth_result.programs[:top])
    programs += [p for p in synth_result.programs[top:] if p.kind == "table"][:1]
    model = run.load_model()
    t0 = time.perf_counter()
    circuit, rows, match, fit = analyse_model(model, run.task, run.split, programs)
    t_match = time.perf_counter() - t0
    t0 = time.perf_counter()
    points = progress_measures(run, circuit, fit)
    t_progress = time.perf_counter() - t0
    phases = detect_phases(points, run.metrics)
    return {
        "run": str(run_dir),
        "task": run.task.name,
        "n": run.task.n,
        "model": run.config.model.kind,
        "grok_step": run.summary.get("grok_step"),
        "final_test_acc": (run.summary.get("final") or {}).get("test_acc"),
        "circuit": {
            k: circuit.to_json()[k]
            for k in (
                "basis",
                "form",
                "key_frequencies",
                "key_embedding_share",
                "frequencies_for_90",
                "fve",
                "full_loss",
                "restricted_loss",
                "excluded_loss",
                "chance_loss",
                "faithfulness",
                "bits",
                "neuron_key_fraction",
            )  # fmt: skip
        },
        "match": match.to_json(),
        "programs": [
            {
                k: r.to_json()[k]
                for k in ("expr", "bits", "behaviour", "spectrum", "support", "intermediates")
            }
            for r in rows
        ],
        "phases": phases.to_json(),
        "checkpoints": len(points),
        "seconds": {
            "synth (not timed target)": round(t_synth, 2),
            "extract+match": round(t_match, 2),
            "progress": round(t_progress, 2),
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("runs", nargs="*", type=Path, help="run folders to measure")
    ap.add_argument(
        "--train", nargs="*", default=[], metavar="TASK", help="train these tasks first"
    )
    ap.add_argument("--p", type=int, default=97)
    ap.add_argument("--model", default="transformer", choices=["transformer", "mlp"])
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None, help="where to put trained runs")
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (compare_run uses 1)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    runs = list(args.runs)
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-compare-"))
    for name in args.train:
        config = default_config(args.model)
        if args.steps:
            config = config.replace(steps=args.steps)
        t0 = time.perf_counter()
        result = train(
            get_task(name, p=args.p), config, run_dir=out / f"{name}-{args.p}", force=True
        )
        print(
            f"trained {name} p={args.p}: {result.steps} steps, {time.perf_counter() - t0:.1f}s, "
            f"grok step {result.grok_step}, test acc {result.final['test_acc']:.3f}",
            file=sys.stderr,
        )
        runs.append(out / f"{name}-{args.p}")
    if not runs:
        ap.error("give run folders or --train TASK")
    for run_dir in runs:
        print(json.dumps(bench(run_dir, args.top), indent=2))


if __name__ == "__main__":
    main()
