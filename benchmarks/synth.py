"""Benchmark: the nine Power et al. operations, synthesized from a 30% training split.

    .venv/bin/python benchmarks/synth.py [--p 97] [--frac 0.3] [--top 1] [--seed 0]
                                         [--stress-bits 36] [--cvc5-timeout 60]

Prints, per task, the best program, its bits (L(P) and the two-part total), test accuracy,
seconds, programs built, programs per second and peak memory (tracemalloc's peak of the
Python heap, numpy arrays included, in a second untimed run of that task), then the totals and the process's
peak resident memory. Targets (issue 4): every task solved with test accuracy 1.0, all nine
≤ 10 s on a 2-core CPU, peak ≤ 2 GiB, ≥ 1 M programs/s on the hardest task. The nine
stop within a fraction of a second, so per-level overheads weigh on their rates; a last
line enumerates modcond exhaustively to ``--stress-bits`` for the sustained rate.

If the optional ``cvc5`` package is importable, cvc5's SyGuS solver is given the same
training examples (grammar: x, y, 0, 1, +, −, ·, with the result taken mod p; it has no
modular inverse, so the division tasks are left out) under a time limit, and the time ratio
is printed. cvc5 is never a dependency of synthcmp.
"""

from __future__ import annotations

import argparse
import multiprocessing
import queue as queue_module
import resource
import sys
import time
import tracemalloc
from pathlib import Path

# this file is named synth.py: keep its folder off the path so `import synth` is the package
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from synth import SynthConfig, synthesize  # noqa: E402
from taskcore.registry import POWER_TASKS, get_task  # noqa: E402


def run_cvc5(task, split, timeout_s: float) -> float | None:
    """Seconds cvc5 needs to find a program consistent with the training examples, or None
    (timed out or no answer). cvc5 runs in a child process that
    is killed at the time limit (its own ``tlimit`` is not always honoured by SyGuS)."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_cvc5_child, args=(task, split, queue), daemon=True)
    child.start()
    try:
        queue.get(timeout=max(120.0, timeout_s))  # "ready": the examples are loaded
        return queue.get(timeout=timeout_s)  # the time of checkSynth, or None
    except queue_module.Empty:
        return None
    finally:
        if child.is_alive():
            child.kill()
        child.join()


def _cvc5_child(task, split, queue) -> None:
    queue.put(_cvc5_solve(task, split, lambda: queue.put("ready")))


def _cvc5_solve(task, split, ready) -> float | None:
    import cvc5
    from cvc5 import Kind

    s = cvc5.Solver()
    s.setOption("sygus", "true")
    s.setLogic("NIA")
    Int = s.getIntegerSort()
    x, y = s.mkVar(Int, "x"), s.mkVar(Int, "y")
    start = s.mkVar(Int, "Start")
    zero, one = s.mkInteger(0), s.mkInteger(1)
    g = s.mkGrammar([x, y], [start])
    g.addRules(
        start,
        [x, y, zero, one] + [s.mkTerm(k, start, start) for k in (Kind.ADD, Kind.SUB, Kind.MULT)],
    )
    body = s.synthFun("g", [x, y], Int, g)
    p = s.mkInteger(task.p)
    for a, b, out in zip(split.x_train, split.y_train, split.out_train, strict=True):
        call = s.mkTerm(Kind.APPLY_UF, body, s.mkInteger(int(a)), s.mkInteger(int(b)))
        s.addSygusConstraint(
            s.mkTerm(Kind.EQUAL, s.mkTerm(Kind.INTS_MODULUS, call, p), s.mkInteger(int(out)))
        )
    ready()
    t0 = time.perf_counter()
    found = s.checkSynth().hasSolution()
    seconds = time.perf_counter() - t0
    return seconds if found else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p", type=int, default=97)
    ap.add_argument("--frac", type=float, default=0.3)
    ap.add_argument("--top", type=int, default=1, help="exact programs to find per task")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stress-bits", type=float, default=36.0, help="long enumeration (0: skip)")
    ap.add_argument("--cvc5-timeout", type=float, default=60.0, help="seconds per task")
    args = ap.parse_args()
    try:
        import cvc5  # noqa: F401

        have_cvc5 = True
    except ImportError:
        have_cvc5 = False

    config = SynthConfig(top_k=args.top, seed=args.seed)
    header = (
        f"{'task':9} {'best program':32} {'L(P)':>6} {'total':>7} {'test':>6} {'s':>6} "
        f"{'programs':>10} {'M/s':>6} {'peak MB':>8} {'stopped':>9}"
    )
    if have_cvc5:
        header += f" {'cvc5 s':>7} {'ratio':>7}"
    print(f"p = {args.p}, train fraction {args.frac}, seed {args.seed}, top_k {args.top}")
    print(header)
    total_s = total_programs = 0
    hardest = (0, 0.0)
    solved = 0
    for name in POWER_TASKS:
        task = get_task(name, p=args.p)
        split = task.split(args.frac, args.seed)
        t0 = time.perf_counter()
        result = synthesize(task, split, config)
        seconds = time.perf_counter() - t0
        # memory in a second, untimed run: tracemalloc slows numpy-heavy code several-fold
        tracemalloc.start()
        synthesize(task, split, config)
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        best, st = result.best, result.stats
        total_s += seconds
        total_programs += st.programs
        hardest = max(hardest, (st.programs, st.programs_per_s))
        solved += best.kind == "program" and best.test_acc == 1.0
        line = (
            f"{name:9} {best.expr:32} {best.program_bits:6.2f} {best.bits:7.1f} "
            f"{best.test_acc:6.3f} {seconds:6.2f} {st.programs:10,} "
            f"{st.programs_per_s / 1e6:6.2f} {peak_mb:8.1f} {st.stopped:>9}"
        )
        if have_cvc5:
            if "/" in (task.expr or ""):
                line += f" {'n/a':>7} {'':>7}"  # outside cvc5's grammar here (no inverse)
            else:
                c = run_cvc5(task, split, args.cvc5_timeout)
                limit = f">{args.cvc5_timeout:g}"
                line += f" {limit:>7} {'':>7}" if c is None else f" {c:7.2f} {c / seconds:7.0f}"
        print(line, flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"total: {solved}/{len(POWER_TASKS)} solved with test accuracy 1.0 in {total_s:.2f} s, "
        f"{total_programs:,} programs; hardest task {hardest[0]:,} programs at "
        f"{hardest[1] / 1e6:.2f} M programs/s; process peak RSS {rss:.0f} MB"
    )
    if args.stress_bits:
        # the nine stop early; sustained throughput shows on a long enumeration
        task = get_task("modcond", p=args.p)
        stress = SynthConfig(top_k=10**9, max_bits=args.stress_bits, timeout_s=120)
        result = synthesize(task, task.split(args.frac, args.seed), stress)
        st = result.stats
        print(
            f"sustained: modcond enumerated to {st.bits_reached:g} bits: {st.programs:,} "
            f"programs, {st.distinct:,} distinct, {st.search_seconds:.2f} s, "
            f"{st.programs_per_s / 1e6:.2f} M programs/s, search arrays "
            f"{st.bank_memory_mb:.0f} MB, process peak RSS {st.peak_memory_mb:.0f} MB"
        )
    if not have_cvc5:
        print("cvc5 not installed: SyGuS comparison skipped (pip install cvc5 to add it)")


if __name__ == "__main__":
    main()
