"""Time reading a network's circuit through the nodes its programs propose, and the progress
measures over its checkpoints.

Targets (issue 18), on 2 CPU cores at p = 97:

* reading the circuit — every candidate node from the top programs and the fixed forms,
  fitted and priced, the best kept, the embedding read, the baselines — ≤ 2 s;
* the progress measures over ~80 checkpoints ≤ 10 s.

Usage::

    python benchmarks/compare.py RUN_DIR [RUN_DIR ...]        # existing run folders
    python benchmarks/compare.py --train modadd modsq --p 97   # train with the defaults first

The synthesizer's result is loaded from (or saved to) each run's synth.json and is not
timed. Prints one row per run: the node read, whether a circuit was found, and the seconds
of each part; then whether the targets were met.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from compare import analyse_model, load_or_synthesize  # noqa: E402
from compare.extract import extract_circuit  # noqa: E402
from compare.network import NEURON_LAYER, probe  # noqa: E402
from compare.nodes import logit_nodes  # noqa: E402
from compare.progress import progress_measures  # noqa: E402
from neural import default_config, load_run, train  # noqa: E402
from taskcore.registry import get_task  # noqa: E402

READ_TARGET, PROGRESS_TARGET = 2.0, 10.0


def bench(run_dir: Path, top: int) -> dict:
    run = load_run(run_dir)
    task, split = run.task, run.split
    synth_result = load_or_synthesize(run)
    programs = list(synth_result.programs[:top])
    programs += [p for p in synth_result.programs[top:] if p.kind == "table"][:1]
    texts = [p.expr for p in programs if p.kind != "table"]
    model = run.load_model()
    seen = probe(model, task.n)
    t0 = time.perf_counter()
    circuit = extract_circuit(seen.logits, task, split, seen.embedding, seen.neurons,
                              NEURON_LAYER, programs=texts)  # fmt: skip
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = analyse_model(model, task, split, programs)
    t_match = time.perf_counter() - t0
    t0 = time.perf_counter()
    points = progress_measures(run, found.circuit, found.fit)
    t_progress = time.perf_counter() - t0
    return {
        "run": f"{task.name} p={task.n}", "nodes": len(logit_nodes(task, texts)),
        "node": circuit.node, "basis": circuit.basis, "found": circuit.found,
        "verdict": found.match.verdict[:40], "checkpoints": len(points),
        "read": t_read, "extract+match": t_match, "progress": t_progress,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("runs", nargs="*", type=Path, help="run folders to measure")
    ap.add_argument("--train", nargs="*", default=[], metavar="TASK", help="train these first")
    ap.add_argument("--p", type=int, default=97)
    ap.add_argument("--out", type=Path, default=None, help="where to put trained runs")
    ap.add_argument("--top", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(1)  # as compare_run does

    runs = list(args.runs)
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-compare-"))
    for name in args.train:
        result = train(get_task(name, p=args.p), default_config("transformer"),
                       run_dir=out / f"{name}-{args.p}", force=True)  # fmt: skip
        print(f"trained {name} p={args.p}: {result.steps} steps, grok step {result.grok_step}",
              file=sys.stderr)  # fmt: skip
        runs.append(out / f"{name}-{args.p}")
    if not runs:
        ap.error("give run folders or --train TASK")
    rows = [bench(run_dir, args.top) for run_dir in runs]
    print(f"{'run':<14} {'nodes':>5} {'node read':<34} {'found':<5} {'ckpts':>5} "
          f"{'read s':>7} {'extract+match s':>15} {'progress s':>10}  verdict")  # fmt: skip
    for r in rows:
        print(f"{r['run']:<14} {r['nodes']:>5} {r['node'] + ' (' + r['basis'] + ')':<34} "
              f"{'yes' if r['found'] else 'no':<5} {r['checkpoints']:>5} {r['read']:>7.2f} "
              f"{r['extract+match']:>15.2f} {r['progress']:>10.2f}  {r['verdict']}")  # fmt: skip
    at97 = [r for r in rows if r["run"].endswith("p=97")]
    if at97:
        worst_read = max(r["read"] for r in at97)
        per80 = max(r["progress"] * 80 / max(r["checkpoints"], 1) for r in at97)
        print(f"\np = 97: reading the circuit ≤ {READ_TARGET:g} s: {worst_read:.2f} s "
              f"({'met' if worst_read <= READ_TARGET else 'missed'}); progress over 80 "
              f"checkpoints ≤ {PROGRESS_TARGET:g} s: {per80:.2f} s "
              f"({'met' if per80 <= PROGRESS_TARGET else 'missed'})")  # fmt: skip


if __name__ == "__main__":
    main()
