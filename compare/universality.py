"""Universality: do runs that differ in seed — or in architecture — learn the same program?

The claim under test is the "convergence" of representations: networks trained on one task
from different initializations, even of different architectures, end up aligned and running
the same algorithm. For modular addition the public evidence is mixed in an interesting way:
every grokked run implements the Fourier algorithm, but each seed picks its own key
frequencies (Chughtai et al. 2023: *weak* universality), and one-layer networks run either
the Clock or the Pizza algorithm (Zhong et al. 2023). :func:`align_runs` measures each of
these on a set of run folders and says which holds, from the numbers:

* **per run** (:func:`compare.compare_run` without the checkpoints): grokked?, the matched
  program, the key frequencies, the logit model's variance explained, and Clock or Pizza
  (:mod:`compare.clockpizza`) with both measures;
* **per layer, between every two runs**: linear CKA and mutual k-NN alignment, each beside
  its shuffled-input baseline (:mod:`compare.similarity`). The embeddings (``embed.x``,
  ``embed.y``) are compared over the n symbols, every other cached activation and the
  logits over the inputs (all n² up to n = 64);
* **key frequencies**: the Jaccard index of every two runs' sets, beside random sets of the
  same sizes;
* **the program level**: the share η² of each layer's variance that is a function of the
  program's node (u = x + y for ``x + y``) — frequency-invariant, so "different
  frequencies, same algorithm" shows as a low raw CKA and equal node shares, if that is
  what the data say — beside its baseline (the node's values shuffled).

The verdict lines are built from these numbers and nothing else; they say "no" as readily as
"yes" (a lookup task, or runs that did not grok, have no program to share).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from compare.analysis import CompareProgress
from compare.clockpizza import ClockPizza, clock_pizza
from compare.similarity import (
    LOGITS,
    MAX_ROWS,
    Alignment,
    align_layer,
    input_sample,
    jaccard_baseline,
    jaccard_matrix,
    node_share,
    shuffle,
)
from compare.universality_verdict import verdict_lines
from taskcore.errors import TaskError
from taskcore.events import BasisKind, Grade
from taskcore.serial import JsonMixin

SYMBOL_LAYERS = ("embed.x", "embed.y")  # functions of one input: compared over the n symbols


@dataclass(frozen=True)
class RunReport(JsonMixin):
    """One run as the universality report sees it."""

    index: int
    run_dir: str
    model: str
    seed: int
    grokked: bool
    grok_step: int | None
    test_acc: float
    program: str  # the matched program, implemented or partly ("" when neither)
    grade: str  # "implements" | "partial" | "other" | "memorization"
    verdict: str  # compare's match verdict
    key_frequencies: list[int]
    fve: float  # the logit model's variance explained
    faithfulness: float
    node: str  # the circuit's u ("" without a circuit)
    algorithm: str  # "clock" | "pizza" | "neither" | "" (not applicable: see algorithm_why)
    distance_irrelevance: float = float("nan")
    gradient_symmetricity: float = float("nan")
    algorithm_why: str = ""
    node_share: dict[str, float] = field(default_factory=dict)  # layer → η² of the node
    node_share_baseline: dict[str, float] = field(default_factory=dict)
    key_names: list[str] = field(default_factory=list)  # the key irreps' names (group tasks)

    @property
    def implements(self) -> bool:
        """The network implements its program (a partial match does not count)."""
        return bool(self.program) and self.grade == Grade.IMPLEMENTS


@dataclass(frozen=True)
class AlignResult(JsonMixin):
    """Everything :func:`align_runs` found, JSON-ready."""

    task: str
    n: int
    models: list[str]
    runs: list[RunReport]
    alignment: list[Alignment]  # CKA and mutual k-NN per layer
    frequencies: Alignment | None  # Jaccard of the key-frequency sets
    node: str  # the program node of the node-level scores ("" when there is none)
    node_why: str
    verdict: list[str]
    universe: int = 0  # the frequencies a set is drawn from (1 … universe)
    references: dict[str, ClockPizza] = field(default_factory=dict)  # hand-built, at this n
    seconds: dict[str, float] = field(default_factory=dict)

    def layer(self, name: str, metric: str = "cka") -> Alignment | None:
        return next((a for a in self.alignment if a.layer == name and a.metric == metric), None)

    @property
    def keys(self) -> str:
        """What the key sets hold: "irreps" for a group's circuits, else "frequencies"."""
        return BasisKind.IRREPS if any(r.key_names for r in self.runs) else "frequencies"


@dataclass
class _Seen:
    """One run, analysed: its report fields and its activations on the shared inputs."""

    fields: dict
    layers: dict[str, np.ndarray]  # name → (rows, d)
    universe: int  # the circuit's non-trivial frequencies (irreps), 0 without a circuit


def _layer_order(names: list[list[str]]) -> list[str]:
    """The layers any run has, in the models' own order (the transformer's, then the MLP's),
    the logits last."""
    from neural.models import MLP, Transformer

    canonical = list(dict.fromkeys(Transformer.ACTIVATION_NAMES + MLP.ACTIVATION_NAMES))
    have = {name for group in names for name in group}
    extra = sorted(have - set(canonical) - {LOGITS})  # earlier blocks of deeper transformers
    return [n for n in canonical if n in have] + extra + ([LOGITS] if LOGITS in have else [])


def analyse_run(index: int, run_dir: str | Path, top_k: int, rows: np.ndarray, seed: int) -> _Seen:
    """Compare one run (no checkpoints) and keep what the alignment needs."""
    from compare.analysis import compare_run
    from compare.network import torch_threads
    from neural.store import load_run

    run = load_run(run_dir)
    result = compare_run(run, top_k=top_k, progress=False)  # the folder read once
    task, probe = run.task, result.probe
    n = task.n
    summary = run.summary or {}
    final = summary.get("final") or (run.metrics[-1] if run.metrics else {})
    circuit = result.circuit
    found = circuit is not None and circuit.found
    # Zhong et al.'s measures read noise as a Clock (DI ≈ 1, GS ≈ 0 for random logits), so
    # they are taken only for a network that holds a circuit and computes its program
    adds = found and result.match.grade in Grade.MATCHED
    with torch_threads(1):
        cp = clock_pizza(run.load_model(), probe.logits, task.table,
                         circuit.basis if adds else None, circuit.node if adds else None,
                         seed=seed)  # fmt: skip
    grok_step = summary.get("grok_step", None)
    fields = dict(
        index=index, run_dir=str(run_dir), model=run.config.model.name, seed=run.config.seed,
        grokked=grok_step is not None, grok_step=grok_step,
        test_acc=float(final.get("test_acc", float("nan"))),
        program=result.match.program if result.match.grade in Grade.MATCHED else "",
        grade=result.match.grade, verdict=result.match.verdict,
        key_frequencies=[int(k) for k in circuit.key_frequencies] if found else [],
        fve=float(circuit.fve) if circuit is not None else float("nan"),
        faithfulness=float(circuit.faithfulness) if circuit is not None else float("nan"),
        node=circuit.node if found else "", algorithm=cp.algorithm,
        distance_irrelevance=cp.distance_irrelevance,
        gradient_symmetricity=cp.gradient_symmetricity, algorithm_why=cp.why,
        key_names=([circuit.irrep_names[k] for k in circuit.key_frequencies]
                   if found and circuit.basis == BasisKind.IRREPS else []),
    )  # fmt: skip
    layers = {}
    for name, acts in probe.layers.items():
        if name in SYMBOL_LAYERS:  # row x·n + 0 holds symbol x's embedding (y's: row 0·n + y)
            idx = np.arange(n) * n if name == "embed.x" else np.arange(n)
            layers[name] = np.asarray(acts[idx], dtype=np.float32)
        else:
            layers[name] = np.asarray(acts[rows], dtype=np.float32)
    layers[LOGITS] = np.asarray(probe.logits.reshape(n * n, n)[rows], dtype=np.float32)
    universe = len(circuit.frequency_share) - 1 if circuit is not None else 0
    return _Seen(fields, layers, universe)


def analyse_all(run_dirs, top_k: int, rows: np.ndarray, seed: int, workers: int,
                report) -> list[_Seen]:  # fmt: skip
    """:func:`analyse_run` for every run, in order: here, or in ``workers`` processes."""
    total = len(run_dirs)
    report("analyse", 0, total)
    if workers <= 1 or total < 2:
        seen = []
        for i, d in enumerate(run_dirs):
            seen.append(analyse_run(i, d, top_k, rows, seed))
            report("analyse", i + 1, total)
        return seen
    from concurrent.futures import as_completed

    from taskcore.processes import process_pool

    out: dict[int, _Seen] = {}
    with process_pool(min(workers, total)) as pool:
        futures = {pool.submit(analyse_run, i, d, top_k, rows, seed): i
                   for i, d in enumerate(run_dirs)}  # fmt: skip
        for future in as_completed(futures):
            out[futures[future]] = future.result()
            report("analyse", len(out), total)
    return [out[i] for i in range(total)]


def consensus(reports: list[dict]) -> str:
    """The program most runs implement (fully or partly); "" when none does."""
    counts = Counter(r["program"] for r in reports if r["program"])
    return counts.most_common(1)[0][0] if counts else ""


def node_values(program: str, task, rows: np.ndarray) -> tuple[str, np.ndarray | None, str]:
    """(node, values on the sampled inputs, why): the program's outermost node that depends
    on both inputs — its value (u = x + y for ``x + y``) is what runs must share."""
    if not program:
        return "", None, "no run implements a program, so there is no node to compare"
    from compare.analysis import depends_on_both
    from synth import parse_program

    expr = parse_program(program, task)
    n = task.n
    x, y = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    for node in reversed(expr.internal_nodes()):  # the root first
        v = task.algebra.values(node, x, y)
        if depends_on_both(v):
            return node.to_text(), v.reshape(-1)[rows], ""
    return "", None, f"{program} has no node that depends on both inputs"


def check_runs(run_dirs: list[str | Path]):
    """The task of the runs, after reading every run folder and its network: a RunError for
    a damaged one, a TaskError when they are runs of different tasks, or fewer than two — all
    before any work starts."""
    from neural.store import load_run

    if len(run_dirs) < 2:
        raise TaskError(f"align needs at least 2 runs, got {len(run_dirs)}")
    runs = [load_run(d) for d in run_dirs]
    for run in runs:
        run.load_model()  # the weights compare will read: damaged ones are refused now
    first = runs[0]
    n = first.task.n
    for d, run in zip(run_dirs[1:], runs[1:], strict=True):
        task = run.task
        if task.n != n or not np.array_equal(task.table, first.task.table):
            raise TaskError(f"{d} is a run of {task.name} (n = {task.n}), not of "
                            f"{first.task.name} (n = {n}): align compares runs of one task")  # fmt: skip
    return first.task


def align_runs(
    run_dirs: list[str | Path],
    top_k: int = 3,
    seed: int = 0,
    on_progress: Callable[[CompareProgress], None] | None = None,
    workers: int = 1,
) -> AlignResult:
    """Analyse every run and align them (see the module docstring). The runs must be of
    one task (a :class:`~taskcore.errors.TaskError` otherwise, as for a damaged folder).
    ``workers`` > 1 analyses that many runs at once, a process each (the results do not
    depend on it)."""
    def report(stage: str, done: int, total: int) -> None:
        if on_progress:
            on_progress(CompareProgress(stage, done, total))

    seconds: dict[str, float] = {}
    task = check_runs(run_dirs)
    n = task.n
    rows = input_sample(n * n, MAX_ROWS, seed)

    t0 = time.perf_counter()
    seen = analyse_all(run_dirs, top_k, rows, seed, workers, report)
    seconds["analyse"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    program = consensus([s.fields for s in seen])
    node, v, node_why = node_values(program, task, rows)
    for s in seen:
        shares, baselines = {}, {}
        if v is not None:
            v_shuffled = v[shuffle(len(v), seed)]
            for name, H in s.layers.items():
                if name not in SYMBOL_LAYERS:
                    shares[name] = node_share(H, v)
                    baselines[name] = node_share(H, v_shuffled)
        s.fields.update(node_share=shares, node_share_baseline=baselines)
    reports = [RunReport(**s.fields) for s in seen]
    models = list(dict.fromkeys(r.model for r in reports))

    names = _layer_order([list(s.layers) for s in seen])
    alignment: list[Alignment] = []
    for i, name in enumerate(names):
        report("align", i, len(names))
        have = [s for s in seen if name in s.layers]
        if len(have) < 2:
            continue
        runs = [s.fields["index"] for s in have]
        alignment += align_layer(name, [s.layers[name] for s in have], runs,
                                 [s.fields["model"] for s in have], seed)  # fmt: skip
    report("align", len(names), len(names))

    universe = max(s.universe for s in seen) or n // 2  # the non-trivial frequencies
    sets = [r.key_frequencies for r in reports]
    with_sets = [r.index for r in reports if r.key_frequencies]
    frequencies = None
    if len(with_sets) >= 2:
        chosen = [sets[i] for i in with_sets]
        frequencies = Alignment.of("key frequencies", "jaccard", with_sets, jaccard_matrix(chosen),
                                   jaccard_baseline(chosen, universe, seed),
                                   [reports[i].model for i in with_sets],
                                   note=f"random sets of the same sizes from k = 1…{universe}")  # fmt: skip
    references = reference_measures(task) if any(r.algorithm for r in reports) else {}
    seconds["align"] = time.perf_counter() - t0
    result = AlignResult(task.name, n, models, reports, alignment, frequencies, node, node_why,
                         [], universe, references, seconds)  # fmt: skip
    return AlignResult(**{**result.__dict__, "verdict": verdict_lines(result)})


def reference_measures(task) -> dict[str, ClockPizza]:
    """Both measures on hand-built Clock and Pizza MLPs of this n (the calibration the
    classification rests on), over x + y."""
    from compare.handbuilt_pizza import clock_mlp, pizza_mlp
    from compare.network import probe

    n = task.n
    key = list(range(1, min(3, (n - 1) // 2) + 1))
    if not key:
        return {}
    x, y = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    table = (x + y) % n
    out = {}
    for name, build in (("clock", clock_mlp), ("pizza", pizza_mlp)):
        model = build(n, key)
        out[name] = clock_pizza(model, probe(model, n).logits, table, BasisKind.ADDITIVE, "x + y")
    return out
