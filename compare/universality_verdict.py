"""The verdict of :func:`compare.universality.align_runs`: what converges, in sentences built
from the numbers and nothing else.

One line says what the numbers support (the conclusion), then one line per model and one
across models. Each claim is tested before it is said, and the test can fail:

* a program is shared only when at least two runs implement it; with fewer the conclusion is
  "no universality to test", and runs that implement different programs "disagree";
* key frequencies (a group's key irreps) are *no more shared than random sets* within
  :data:`ABOVE_CHANCE` of their baseline — whatever the Jaccard: with S4's four non-trivial
  irreps, random sets of three overlap by 0.6 — else *largely shared* at a mean Jaccard
  ≥ :data:`SHARED` and *partly shared* below;
* "the same algorithm on different features" needs both halves: the logits' node share at
  least :data:`NODE_HELD` in every implementing run, and the logits' CKA less than
  :data:`ALIGNED` above its shuffled baseline;
* Clock and Pizza are counted as :mod:`compare.clockpizza` classifies each run.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from compare.clockpizza import CLOCK, NEITHER, PIZZA
from compare.similarity import LOGITS, Alignment, off_diagonal_mean

if TYPE_CHECKING:
    from compare.universality import AlignResult, RunReport

SHARED = 0.5  # mean Jaccard at or above this: the runs largely share their key frequencies
ABOVE_CHANCE = 0.1  # a score this much above its baseline is more than chance
ALIGNED = 0.5  # CKA this much above its baseline: the layers align
NODE_HELD = 0.8  # a node share at least this: the layer is (mostly) a function of the node


def _f(v: float) -> str:
    return f"{v:.2f}" if np.isfinite(v) else "–"


def span(values) -> str:
    """``lo–hi`` (one number when they agree); ``lo to hi`` when a bound is negative, which a
    dash would make unreadable."""
    lo, hi = min(values), max(values)
    if _f(lo) == _f(hi):
        return _f(lo)
    return f"{_f(lo)}{' to ' if min(lo, hi) < 0 else '–'}{_f(hi)}"


def block_means(a: Alignment | None, models: list[str], m1: str, m2: str) -> tuple[float, float]:
    """(mean, baseline mean) of ``a`` over pairs of distinct runs, one of model ``m1`` and
    one of ``m2`` (``models`` gives each run's model, by run index)."""
    if a is None:
        return float("nan"), float("nan")
    kinds = [models[r] for r in a.runs]
    return (off_diagonal_mean(a.matrix, kinds, m1, m2),
            off_diagonal_mean(a.baseline, kinds, m1, m2))  # fmt: skip


def _programs(runs: list[RunReport]) -> str:
    counts = Counter(r.program for r in runs if r.implements)
    partly = Counter(r.program for r in runs if r.program and not r.implements)
    total = len(runs)
    parts = [f"{c}/{total} implement {p}" for p, c in counts.most_common()]
    parts += [f"{c}/{total} partly implement {p}" for p, c in partly.most_common()]
    if not counts and not partly:
        return f"0/{total} implement a program (memorization — no compact circuit)"
    return "; ".join(parts)


def _algorithms(runs: list[RunReport]) -> str:
    measured = [r for r in runs if r.algorithm]
    if not measured:
        return ""
    counts = Counter(r.algorithm for r in measured)
    di = [r.distance_irrelevance for r in measured]
    gs = [r.gradient_symmetricity for r in measured]
    names = {CLOCK: "Clock", PIZZA: "Pizza", NEITHER: "neither"}
    said = ", ".join(f"{names[k]} {counts.get(k, 0)}" for k in (CLOCK, PIZZA, NEITHER))
    return (f"{said} (distance irrelevance {span(di)}, gradient symmetricity "
            f"{span(gs)})")  # fmt: skip


def _frequencies(result: AlignResult, m1: str, m2: str) -> str:
    a = result.frequencies
    models = [r.model for r in result.runs]
    mean, base = block_means(a, models, m1, m2)
    if not np.isfinite(mean):
        return ""
    if mean - base < ABOVE_CHANCE:
        how = ("no more shared than random sets: each seed picks its own" if mean < SHARED else
               "no more than random sets of these sizes: there are few to choose from")
    elif mean >= SHARED:
        how = "largely shared"
    else:
        how = "partly shared"
    return f"key {result.keys} overlap by Jaccard {_f(mean)} (random sets: {_f(base)}): {how}"


def _similarity(result: AlignResult, m1: str, m2: str) -> str:
    models = [r.model for r in result.runs]
    parts = []
    for name, label in (("embed.x", "embeddings"), ("mlp.post", "MLP neurons"),
                        (LOGITS, "logits")):  # fmt: skip
        mean, base = block_means(result.layer(name, "cka"), models, m1, m2)
        if np.isfinite(mean):
            parts.append(f"{label} {_f(mean)} vs baseline {_f(base)}")
    return "CKA of " + ", ".join(parts) if parts else ""


def _node_shares(runs: list[RunReport]) -> tuple[list[float], float]:
    """The logits' node shares of the runs that implement a program, and their baseline."""
    mine = [r for r in runs if r.implements]
    shares = [r.node_share.get(LOGITS, float("nan")) for r in mine]
    bases = [r.node_share_baseline.get(LOGITS, float("nan")) for r in mine]
    shares = [s for s in shares if np.isfinite(s)]
    base = float(np.nanmean(bases)) if any(np.isfinite(b) for b in bases) else float("nan")
    return shares, base


def _node(result: AlignResult, runs: list[RunReport]) -> str:
    shares, base = _node_shares(runs)
    if not result.node or not shares:
        return ""
    return (f"share of logit variance that is a function of {result.node} (runs that implement "
            f"it): {span(shares)} (shuffled: {_f(base)})")  # fmt: skip


def _features_and_node(result: AlignResult) -> str:
    """Raw features against the node: "same algorithm, different features" only when the
    numbers say both halves."""
    a = result.layer(LOGITS, "cka")
    shares, _ = _node_shares(result.runs)
    if a is None or not shares or not np.isfinite(a.mean):
        return ""
    above = a.mean - a.baseline_mean
    if min(shares) >= NODE_HELD and above < ALIGNED:
        return (f"raw logits align little (CKA {_f(a.mean)}, shuffled {_f(a.baseline_mean)}) "
                f"while {span(shares)} of each implementing run's logit "
                f"variance is a function of {result.node}: the same algorithm on different "
                "features")  # fmt: skip
    if above >= ALIGNED:
        return f"the logits align (CKA {_f(a.mean)}, shuffled {_f(a.baseline_mean)})"
    return ""


def verdict_lines(result: AlignResult) -> list[str]:
    """One line per model, one across models (when there are two), and a conclusion first."""
    runs = result.runs
    lines = []
    for m in result.models:
        mine = [r for r in runs if r.model == m]
        grokked = sum(r.grokked for r in mine)
        parts = [f"{grokked}/{len(mine)} grokked", _programs(mine), _frequencies(result, m, m),
                 _algorithms(mine), _similarity(result, m, m), _node(result, mine)]  # fmt: skip
        lines.append(f"{m}: " + "; ".join(p for p in parts if p))
    for i, m1 in enumerate(result.models):
        for m2 in result.models[i + 1:]:
            parts = [_frequencies(result, m1, m2), _similarity(result, m1, m2)]
            if any(parts):
                lines.append(f"{m1} × {m2}: " + "; ".join(p for p in parts if p))
    return [conclusion(result)] + lines


def conclusion(result: AlignResult) -> str:
    """The claim the numbers support, in one sentence (and the reason when it is 'no')."""
    runs = result.runs
    total = len(runs)
    implementing = [r for r in runs if r.implements]
    counts = Counter(r.program for r in implementing)
    partly = sum(bool(r.program) and not r.implements for r in runs)
    if len(implementing) < 2:
        grokked = sum(r.grokked for r in runs)
        return (f"No universality to test: {len(implementing)} of {total} runs implement a "
                f"program ({grokked} grokked) — runs that memorized share no algorithm to align.")  # fmt: skip
    program, agree = counts.most_common(1)[0]
    by_model = ", ".join(f"{sum(r.program == program for r in implementing if r.model == m)}/"
                         f"{sum(r.model == m for r in runs)} {m}" for m in result.models)  # fmt: skip
    if len(counts) > 1:
        others = ", ".join(f"{p} ({c})" for p, c in counts.most_common()[1:])
        head = f"Runs disagree: {agree}/{total} implement {program} ({by_model}), others {others}"
    elif agree < total:
        rest = [f"{partly} partly" if partly else "", f"{total - agree - partly} not at all"
                if total - agree - partly else ""]  # fmt: skip
        head = (f"{agree}/{total} runs implement {program} ({by_model}); the rest: "
                f"{', '.join(r for r in rest if r)}")  # fmt: skip
    else:
        head = f"Every run implements {program} ({by_model})"
    models = [r.model for r in runs]
    freq = []
    for m in result.models:
        mean, base = block_means(result.frequencies, models, m, m)
        if np.isfinite(mean):
            freq.append((mean, base))
    keys = result.keys
    chance = [mean - base < ABOVE_CHANCE for mean, base in freq]
    if freq and all(chance) and all(mean < SHARED for mean, _ in freq):
        tail = (f"each seed picks its own key {keys} (weak universality: same program, "
                f"different {'circles' if keys == 'frequencies' else 'representations'})")
    elif freq and all(chance):
        tail = (f"the key {keys} overlap no more than random sets of the same sizes "
                f"(few to choose from), so their overlap says nothing")
    elif freq and all(mean >= SHARED for mean, _ in freq):
        tail = f"the seeds largely share their key {keys}"
    elif freq:
        tail = f"key {keys} are partly shared"
    else:
        tail = ""
    features = _features_and_node(result)
    if features:
        tail += ("; " if tail else "") + features
    algos = Counter(r.algorithm for r in implementing if r.algorithm)
    if algos:
        names = {CLOCK: "Clock", PIZZA: "Pizza", NEITHER: "neither"}
        counts_text = ", ".join(f"{names[k]} {c}" for k, c in algos.most_common())
        tail += ("; " if tail else "") + f"by Zhong et al.'s measures {counts_text}"
    return head + (f"; {tail}." if tail else ".")
