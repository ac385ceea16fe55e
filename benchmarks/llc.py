"""The local learning coefficient on the project's networks: what it costs, how its defaults
were chosen, and whether devinterp's estimator agrees.

Three measurements, on runs of ``modadd`` and ``lookup`` at ``--p`` (default 97) trained with
the defaults into ``--runs`` (reused when already there):

``cost``       λ̂ over training as ``compare --llc`` makes it (the default sampler, the default
               number of checkpoints), for both runs: seconds per checkpoint, seconds for the
               whole run, and each checkpoint's λ̂ beside its bits — the two curves.
``calibrate``  the grid behind the defaults (docs/llc.md): step ε × localization γ at six
               checkpoints (memorized, grokked, final of modadd; memorized, middle, final of
               lookup), each with its warnings, how many SGLD steps its chains took to settle,
               and how far λ̂ moves when ε is halved.
``devinterp``  the same checkpoint estimated by this project's estimator and by devinterp's
               (``pip install -e ".[slt]"``), with the same settings, printed side by side.

Usage::

    python benchmarks/llc.py cost
    python benchmarks/llc.py calibrate --runs /tmp/llc-runs
    python benchmarks/llc.py devinterp --runs /tmp/llc-runs
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from compare import compare_run  # noqa: E402
from neural import default_config, load_run, train  # noqa: E402
from neural.llc import LLCConfig, training_llc  # noqa: E402
from taskcore.events import phase_columns  # noqa: E402
from taskcore.registry import get_task  # noqa: E402

TASKS = ("modadd", "lookup")


def trained(runs: Path, name: str, p: int):
    """The run of ``name`` at ``p`` with the defaults, trained once into ``runs``."""
    run_dir = runs / f"{name}-p{p}"
    if not (run_dir / "model.pt").is_file():
        print(f"training {name} p = {p} into {run_dir} …", flush=True)
        train(get_task(name, p=p), default_config(), run_dir=run_dir)
    return load_run(run_dir)


def cost(runs: Path, p: int) -> None:
    print(f"torch threads {torch.get_num_threads()}; sampler {LLCConfig().to_json()}")
    for name in TASKS:
        run = trained(runs, name, p)
        t0 = time.perf_counter()
        result = compare_run(run, top_k=1, llc=LLCConfig())
        seconds = result.seconds["llc"]
        print(f"\n{name} p = {p}: λ̂ at {len(result.llc)} of {len(run.checkpoint_steps)} "
              f"checkpoints in {seconds:.1f} s ({seconds / len(result.llc):.2f} s each); "
              f"compare in all {time.perf_counter() - t0:.1f} s")  # fmt: skip
        print(f"phases: memorization {result.phases.memorization}, circuit formation "
              f"{result.phases.circuit_formation}, cleanup {result.phases.cleanup}")  # fmt: skip
        bits = {q.step: q.bits for q in result.progress}
        columns = dict(phase_columns([q.step for q in result.llc], result.phases.to_json()))
        print(f"{'step':>6} {'λ̂':>9} {'half':>9} {'bits':>10}  column / warnings")
        for q in result.llc:
            mark = columns.get(q.step, "").replace("\n", " ")
            print(f"{q.step:>6} {q.llc:>9.2f} {q.llc_half:>9.2f} {bits.get(q.step, math.nan):>10,.1f}"
                  f"  {mark} {'; '.join(q.warnings)}")  # fmt: skip


def settle(estimate) -> float:
    """The SGLD step at which a chain's running trace first reaches 90% of its λ̂ (mean over
    the chains): how much burn-in the chains needed."""
    out = []
    for trace, llc in zip(estimate.traces, estimate.llc_chains, strict=True):
        rise = [estimate.nbeta * (v - estimate.loss_start) for v in trace]
        out.append(next((i for i, r in enumerate(rise) if r >= 0.9 * llc), len(rise)))
    return sum(out) / len(out)


def calibrate(runs: Path, p: int) -> None:
    points = []
    for name in TASKS:
        run = trained(runs, name, p)
        metrics = run.metrics
        memorized = next(r["step"] for r in metrics if r.get("train_acc", 0) >= 1.0)
        steps = run.checkpoint_steps
        near = min(steps, key=lambda s: abs(s - memorized))
        grok = run.summary.get("grok_step")
        middle = min(steps, key=lambda s: abs(s - (grok if grok else steps[-1] // 2)))
        points += [(name, run, s) for s in dict.fromkeys((near, middle, steps[-1]))]
    grid = [(eps, gamma) for gamma in (300.0, 1000.0, 3000.0) for eps in (2.5e-5, 5e-5, 1e-4, 2e-4)]
    print("λ̂ (settle: SGLD steps to 90% of it; Δε/2: change when ε is halved) — "
          "2 chains × 60 draws after 40")  # fmt: skip
    header = "".join(f" {n[:6]}@{s:<5}" for n, _, s in points)
    print(f"{'γ':>6} {'ε':>8} {header}   s/checkpoint  warnings")
    previous: dict = {}
    for eps, gamma in grid:
        cells, notes, seconds = [], [], []
        for name, run, step in points:
            config = LLCConfig(step=eps, localization=gamma)
            t0 = time.perf_counter()
            est = training_llc(run.load_model(step), run.split, run.task.n, config)
            seconds.append(time.perf_counter() - t0)
            before = previous.get((gamma, name, step))
            moved = "" if before is None or not math.isfinite(est.llc) else \
                f" Δ{abs(est.llc - before) / max(abs(est.llc), 1e-9):.0%}"  # fmt: skip
            previous[(gamma, name, step)] = est.llc
            cells.append(f"{est.llc:>8.1f}" + (f"/{settle(est):.0f}" if est.trusted else "/!") + moved)
            notes += [f"{name}@{step}: {w}" for w in est.warnings]
        print(f"{gamma:>6g} {eps:>8.1e} " + "  ".join(cells)
              + f"   {sum(seconds) / len(seconds):.1f}  {' | '.join(notes)}", flush=True)  # fmt: skip


def devinterp_llc(model, split, n: int, config: LLCConfig) -> tuple[float, float, float]:
    """devinterp's estimate with the same settings, full batch: (λ̂ over the draws, its
    ``compute_llc`` scalar — which averages the burn-in too —, seconds)."""
    import torch.nn.functional as F
    from datasets import Dataset
    from devinterp.slt.llc import compute_llc
    from devinterp.slt.sampling import sample

    class Sampled(torch.nn.Module):
        """devinterp's sampler moves the model with TransformerLens's ``.to(device,
        print_details=…)``; this module accepts that keyword."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x, y):
            return self.inner(x, y)

        def to(self, *args, print_details=None, **kwargs):
            return super().to(*args, **kwargs)

    pairs = [[int(x) * n + int(y), int(o)] for x, y, o in
             zip(split.x_train, split.y_train, split.out_train, strict=True)]  # fmt: skip
    data = Dataset.from_dict({"input_ids": pairs}).with_format("torch")

    def loss_fn(m, input_ids):  # the (batch, 1) per-"token" loss devinterp asks for
        pair, out = input_ids[:, 0], input_ids[:, 1]
        return F.cross_entropy(m(pair // n, pair % n), out, reduction="none").unsqueeze(1)

    nbeta = config.inverse_temperature(split.n_train)
    t0 = time.perf_counter()
    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as tmp:
        warnings.simplefilter("ignore")
        tree = sample(Sampled(model), data, {}, lr=config.step, n_beta=nbeta,
                      num_chains=config.chains, num_draws=config.draws,
                      num_burnin_steps=config.burnin, batch_size=split.n_train,
                      num_init_loss_batches=1, localization=config.localization, device="cpu",
                      shuffle=False, loss_fn=loss_fn, output_path=Path(tmp) / "s.zarr")  # fmt: skip
        ds = tree.dataset
        init = float(ds.init_loss.values.mean())
        draws = float(ds.sampling_loss.values.mean())
        scalar = float(compute_llc(tree)["llc_scalar"])
    return nbeta * (draws - init), scalar, time.perf_counter() - t0


def devinterp(runs: Path, p: int) -> None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("devinterp")
    except PackageNotFoundError:
        sys.exit('devinterp is not installed: pip install -e ".[slt]"')
    config = LLCConfig()
    print(f"devinterp {found}; settings {config.to_json()}, full batch")
    print(f"{'run':<8} {'step':>6} {'ours':>9} {'chains':>17} {'devinterp':>10} "
          f"{'(with burn-in)':>15} {'s ours':>7} {'s dvi':>6}")  # fmt: skip
    for name in TASKS:
        run = trained(runs, name, p)
        steps = run.checkpoint_steps
        for step in (steps[len(steps) // 3], steps[-1]):
            model = run.load_model(step)
            t0 = time.perf_counter()
            ours = training_llc(model, run.split, run.task.n, config)
            mine = time.perf_counter() - t0
            theirs, scalar, secs = devinterp_llc(model, run.split, run.task.n, config)
            chains = ", ".join(f"{c:.1f}" for c in ours.llc_chains)
            print(f"{name:<8} {step:>6} {ours.llc:>9.2f} {chains:>17} {theirs:>10.2f} "
                  f"{scalar:>15.2f} {mine:>7.1f} {secs:>6.1f}", flush=True)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("what", choices=("cost", "calibrate", "devinterp"))
    ap.add_argument("--p", type=int, default=97)
    ap.add_argument("--runs", type=Path, default=None,
                    help="where the trained runs are kept (default: a fresh temporary folder)")  # fmt: skip
    args = ap.parse_args()
    runs = args.runs or Path(tempfile.mkdtemp(prefix="bench-llc-"))
    runs.mkdir(parents=True, exist_ok=True)
    {"cost": cost, "calibrate": calibrate, "devinterp": devinterp}[args.what](runs, args.p)


if __name__ == "__main__":
    main()
