"""Which node each operation's network is read through: every operation of Power et al. (and
x·y) trained at a setting recorded in docs/defaults.md where it groks, then compared.

Prints, per operation: where it grokked, the node u the circuit is read through (and its
basis), the embedding's node e, whether a circuit was found and its bits beside the shortest
program's, or why none was priced — and, for the conditional, how far the best node goes
on each branch.

Usage::

    python benchmarks/nodes.py                    # every operation below (a few minutes)
    python benchmarks/nodes.py modsq modcond      # some of them
    python benchmarks/nodes.py --out /tmp/nodes   # keep the run folders
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compare import compare_run  # noqa: E402
from neural import default_config, train  # noqa: E402
from taskcore.registry import get_task  # noqa: E402

# (task, p, training fraction, changes): the settings docs/defaults.md records as grokking
SETTINGS = {
    "modadd": (97, 0.3, {}),
    "modsub": (47, 0.7, {}),  # at p = 97, 30% it groks at step 1040, then falls back to 93%
    "moddiv": (97, 0.3, {}),
    "modmul": (97, 0.3, {}),
    "modsq": (97, 0.3, {}),
    "modquad": (47, 0.9, {}),  # examples/sweeps/power47.toml (README): it groks at 90%
    "modcond": (97, 0.8, {"weight_decay": 1.0}),
}


def one(name: str, out: Path) -> dict:
    p, frac, changes = SETTINGS[name]
    t0 = time.perf_counter()
    run = train(get_task(name, p=p), default_config(train_frac=frac, **changes),
                run_dir=out / f"{name}-{p}", force=True)  # fmt: skip
    seconds = time.perf_counter() - t0
    result = compare_run(run.run_dir, top_k=5, progress=False)
    c = result.circuit
    best = min(p.bits for p in result.candidates if p.kind == "program" and p.bits is not None)
    return {"task": f"{name} p={p} {frac:.0%}", "grok": run.grok_step, "seconds": seconds,
            "node": f"{c.node} ({c.basis})", "e": c.embedding_node, "found": c.found,
            "bits": c.bits, "program": best, "why": c.why_not_found(),
            "branches": c.branches, "verdict": result.match.verdict}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("tasks", nargs="*", help=f"some of {', '.join(SETTINGS)} (default: all)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    unknown = [t for t in args.tasks if t not in SETTINGS]
    if unknown:
        ap.error(f"no recorded setting for {', '.join(unknown)}; choose from {', '.join(SETTINGS)}")
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-nodes-"))
    print(f"{'operation':<20} {'grok':>5} {'train s':>7}  {'node u (basis)':<34} {'e':<6} "
          f"{'circuit bits':>12} {'program':>8}")  # fmt: skip
    for name in args.tasks or list(SETTINGS):
        r = one(name, out)
        bits = f"{r['bits']:.1f}" if r["found"] else "–"
        print(f"{r['task']:<20} {r['grok'] or '–':>5} {r['seconds']:>7.1f}  {r['node']:<34} "
              f"{r['e']:<6} {bits:>12} {r['program']:>8.1f}")  # fmt: skip
        if not r["found"]:
            print(f"{'':<20} no circuit priced: {r['why']}")
        for b in r["branches"]:
            print(f"{'':<20} branch {b['condition']}: u = {b['node']} ({b['basis']}), faithful "
                  f"{b['faithfulness']:.1%}, variance explained {b['fve']:.1%}")  # fmt: skip
        print(f"{'':<20} {r['verdict']}")


if __name__ == "__main__":
    main()
