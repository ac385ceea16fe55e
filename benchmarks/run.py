"""End-to-end timing of `synthcmp run`: the command every user runs first.

Target (issue 7): `synthcmp run modadd --p 97` with defaults finishes in ≤ 60 s wall on a
2-core CPU, grokked and matched to x + y; `synthcmp run lookup --p 97` ends in the
memorization verdict with the bits that show it.

Each run is a fresh process (so import and start-up time count, as they do for a user),
writing into a temporary folder. Prints per run: wall seconds, the stage times from
report.json, grok step, the match and the description-length ladder.

    python benchmarks/run.py                  # modadd seeds 0, 1, 2 and lookup, p = 97
    python benchmarks/run.py --p 59 --seeds 0
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one_run(task: str, p: int, seed: int, folder: Path) -> dict:
    out = folder / f"{task}-{seed}"
    cmd = [sys.executable, "-m", "synthcmp.cli", "run", task, "--p", str(p), "--seed", str(seed),
           "--out", str(out), "--json"]  # fmt: skip
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    return {"task": task, "seed": seed, "wall": wall, "report": report}


def show(row: dict) -> None:
    r = row["report"]
    s, train, match = r["seconds"], r["train"], r["compare"]["match"]
    stages = " ".join(f"{k} {v:.1f}" for k, v in s.items() if k != "total")
    print(f"{row['task']:7s} seed {row['seed']}  wall {row['wall']:5.1f} s  ({stages})  "
          f"grok step {train['grok_step']}  test acc {train['final']['test_acc']:.3f}")  # fmt: skip
    print(f"        match: {match['verdict']}")
    print("        ladder: " + " · ".join(f"{x['rung']} {x['bits']:,.0f}" for x in r["ladder"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--p", type=int, default=97)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            rows.append(one_run("modadd", args.p, seed, Path(tmp)))
            show(rows[-1])
        rows.append(one_run("lookup", args.p, 0, Path(tmp)))
        show(rows[-1])
    modadd = [r for r in rows if r["task"] == "modadd"]
    ok = [r for r in modadd if r["report"]["compare"]["match"]["program"] == "x + y"
          and r["report"]["compare"]["match"]["implements"] and r["wall"] <= 60]  # fmt: skip
    worst = max(r["wall"] for r in modadd)
    print(f"\nmodadd p = {args.p}: {len(ok)}/{len(modadd)} runs grokked, matched to x + y and "
          f"within 60 s; slowest {worst:.1f} s")  # fmt: skip
    lookup = rows[-1]["report"]["compare"]["match"]
    print(f"lookup p = {args.p}: {lookup['verdict']}")


if __name__ == "__main__":
    main()
