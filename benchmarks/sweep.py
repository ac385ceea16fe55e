"""How fast does a sweep run: cells per minute on the local pool (1 and 2 workers) and on Ray.

One fixed grid (by default modadd and modsub at p = 23, training fractions 0.5 and 0.8,
seeds 0–1, a 300-step budget: 8 full cells, each synth + train + compare) runs three times
into fresh folders, through the same driver as ``synthcmp sweep run``:

* the local pool with 1 worker, then with 2 (one single-threaded run per core);
* Ray in local mode with 2 CPUs (``ray.init(num_cpus=2)``), if ray is installed.

For each it prints the wall time (worker start-up and Ray's start included, as a user
waits for them), cells per minute, and the mean seconds a cell spent in its worker; the
last column is each executor's overhead against the 2-worker pool at the same work:
wall − (the pool's wall). The cells are identical in every run, so their numbers match.

Usage: ``python benchmarks/sweep.py [--p 23] [--steps 300] [--seeds 2] [--no-ray]``
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--p", type=int, default=23)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray measurement")
    args = parser.parse_args()

    from synthcmp.sweep.db import DB_FILE, Database
    from synthcmp.sweep.driver import run_sweep
    from synthcmp.sweep.executors import LocalPool, RayExecutor
    from synthcmp.sweep.spec import parse_spec

    spec = parse_spec(
        f'tasks = ["modadd", "modsub"]\np = {args.p}\nfrac = [0.5, 0.8]\n'
        f"seed = {list(range(args.seeds))}\nsteps = {args.steps}\n"
    )
    cells = spec.cells()
    runs = [("local pool, 1 worker", lambda: LocalPool(1)),
            ("local pool, 2 workers", lambda: LocalPool(2))]  # fmt: skip
    if args.no_ray:
        pass
    elif importlib.util.find_spec("ray") is None:
        print("ray is not installed: no Ray measurement (pip install 'synthcmp[ray]')")
    else:
        runs.append(("Ray local, 2 CPUs", lambda: RayExecutor("local", 2)))
    print(
        f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"on {os.cpu_count()} CPUs (other processes slow every row alike)"
    )
    print(f"{len(cells)} cells: modadd, modsub at p = {args.p}, frac 0.5 and 0.8, "
          f"{args.seeds} seeds, {args.steps} steps each (synth + train + compare)\n")  # fmt: skip
    results = {}
    for name, make in runs:
        print(f"running: {name} …", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            result = run_sweep(spec, Path(tmp) / "sweep", make(), cells=cells)
            with Database(Path(tmp) / "sweep" / DB_FILE, readonly=True) as db:
                rows = db.rows()
        assert result.ok == len(cells), result.failures
        results[name] = (result.seconds, result.cells_per_minute,
                         statistics.mean(r["seconds"] for r in rows))  # fmt: skip

    pool = results["local pool, 2 workers"][0]
    print(f"{'executor':24s} {'wall s':>7s} {'cells/min':>9s} {'cell s':>7s} "
          f"{'vs 2-worker pool':>17s}")  # fmt: skip
    for name, (wall, rate, mean) in results.items():
        versus = f"{wall - pool:+.1f} s" if "2" in name else ""
        print(f"{name:24s} {wall:7.1f} {rate:9.1f} {mean:7.2f} {versus:>17s}")
    one, two = results["local pool, 1 worker"][1], results["local pool, 2 workers"][1]
    print(f"\n2 workers vs 1: {two / one:.2f}x the cells per minute")
    if "Ray local, 2 CPUs" in results:
        ray = results["Ray local, 2 CPUs"]
        print(
            f"Ray vs the 2-worker pool: {ray[1] / two:.2f}x the cells per minute "
            f"({ray[0] - pool:+.1f} s of wall time on {len(cells)} cells)"
        )


if __name__ == "__main__":
    main()
