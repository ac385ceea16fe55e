"""Grokking modular addition, and reading the circuit the network learned.

A one-layer transformer is trained on x + y mod p from a fraction of the p² pairs. It first
*memorizes* them (train accuracy reaches 100% while test accuracy stays near chance), then, after more
steps of weight decay pushing towards small weights, it *groks*: test accuracy jumps to
~100%. What it learned is no lookup table but an algorithm (Nanda et al. 2023):

    embed x and y as cos(ω_k x), sin(ω_k x), …   for a few key frequencies ω_k = 2πk/p,
    multiply them in the MLP into cos(ω_k (x + y)), sin(ω_k (x + y)),
    read out   logit(c) ≈ Σ_k α_k cos(ω_k (x + y − c)),   which peaks at c = x + y mod p.

This script trains the network, then asks compare/ to find those frequencies, fit the logit
model, and say which of the synthesizer's shortest programs the network implements.

    python examples/01_grokking_modadd.py            # p = 97, about half a minute
    python examples/01_grokking_modadd.py --quick    # p = 23, seconds
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _common import parse_quick

from compare import compare_run
from neural import default_config, train
from taskcore.registry import get_task


def main(quick: bool) -> None:
    # With 529 pairs at p = 23 the network needs a larger share of them to generalize.
    p, frac = (23, 0.8) if quick else (97, 0.3)  # the papers' 30% split
    task = get_task("modadd", p=p)
    config = default_config("transformer", train_frac=frac, steps=1500 if quick else 3000)
    print(f"Task: {task.formula} with p = {p}; training on {frac:.0%} of the {p * p} pairs.")

    def on_step(info) -> None:
        for event in info.events:  # "memorized" and "grokked" are reported as they happen
            print(f"  step {info.step:5d}: {event:9s} train acc {info.train_acc:.1%}, "
                  f"test acc {info.test_acc:.1%}")  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        run = train(task, config, on_step=on_step, run_dir=Path(tmp) / "run")
        print(f"Trained {run.steps} steps in {run.seconds:.1f} s.")
        result = compare_run(run.run_dir, top_k=3)

    c = result.circuit
    print(f"\nThe circuit, in the basis {c.basis}, read through the node u = {c.node}:")
    for k, ir in zip(c.key_frequencies, c.key_irreps, strict=True):
        phase = f"   phase φ_k = {ir['phase']:+.2f}" if c.phased else ""
        print(f"  key frequency k = {k:2d}   α_k = {ir['amplitude']:6.2f}{phase}   "
              f"share of the logits {c.frequency_share[k]:.1%}")  # fmt: skip
    print(f"  the logit model Σ α_k cos(ω_k(u − c)) explains {c.fve:.1%} of the logit variance")
    print(f"  loss with only those directions (restricted) {c.restricted_loss:.3f}, "
          f"without them (excluded) {c.excluded_loss:.3f};\n  chance is log p = {c.chance_loss:.3f}")  # fmt: skip
    priced = f"as a program it costs {c.bits:.1f} bits" if c.found else (
        f"no circuit is priced: {c.why_not_found()}")  # fmt: skip
    print(f"  its argmax agrees with the network on {c.faithfulness:.1%} of all inputs; {priced}")
    print(f"\nVerdict: {result.match.verdict}")


if __name__ == "__main__":
    main(parse_quick(__doc__))
