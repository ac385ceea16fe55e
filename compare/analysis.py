"""compare's entry points: analyse one network, or a whole run folder.

:func:`analyse_model` runs the network once on every input (:func:`compare.network.probe`),
extracts its circuit and matches it against the candidate programs — the synthesizer's,
any the user names, the memorized table and the near misses of the best one
(:mod:`compare.match`). :func:`compare_run` does that for the final model of a run folder,
then measures every checkpoint: the progress measures, the phases and the description
length over training (:mod:`compare.progress`).

Which analysis applies is said, not assumed: a modular task's circuit is read in the
Fourier basis of Z_n (or of the discrete logs of Z_p); a group task's in the group's own
irreducible representations (Fourier modes of Z_120 over the *indices* of S5's
permutations would mean nothing).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from compare.branches import NodeTest, read_branches, read_user_node
from compare.circuit import Circuit
from compare.extract import choose_node, extract_circuit
from compare.intervene import Intervener
from compare.llc import CHECKPOINTS as LLC_CHECKPOINTS
from compare.llc import LLCPoint, llc_over_training, llc_steps
from compare.logits import LogitFit
from compare.match import (
    LogitView,
    Match,
    NodeMatch,
    ProgramMatch,
    behaviour,
    best_candidate,
    verdict,
)
from compare.network import Probe
from compare.nodes import logit_nodes, near_misses
from compare.progress import Phases, ProgressPoint, detect_phases, dl_curve, progress_measures
from neural.llc import LLCConfig
from taskcore import events
from taskcore.errors import TaskError
from taskcore.files import atomic_write_json, read_json_capped
from taskcore.language import Expr
from taskcore.serial import JsonMixin
from taskcore.table import Split, Task

SYNTH_FILE = "synth.json"
MAX_SYNTH_BYTES = 64 * 2**20
COMPARE_THREADS = 1
FOURIER = "fourier"
IRREPS = "irreps"


@dataclass(frozen=True)
class CompareProgress(JsonMixin):
    """What ``on_progress`` receives: a stage ("synth", "extract", "match", "progress") and
    how far it is (``done`` of ``total``)."""

    stage: str
    done: int
    total: int


@dataclass(frozen=True)
class NoiseFit(JsonMixin):
    """How the network treats the training labels that noise changed."""

    noisy: int  # training labels that differ from the true function
    fit_noisy: int  # of those, how many the network predicts as given (it fit the noise)
    fit_clean: int  # how many it predicts as the true function would


@dataclass(frozen=True)
class CompareResult(JsonMixin):
    """Everything compare found about one run, JSON-ready (``to_json``/``from_json``)."""

    run_dir: str | None
    task: str
    n: int
    analysis: str  # FOURIER or IRREPS, with ``why``
    why: str
    circuit: Circuit | None
    match: Match
    candidates: list[ProgramMatch]
    phases: Phases
    progress: list[ProgressPoint] = field(default_factory=list)
    dl_curve: list[dict] = field(default_factory=list)
    noise: NoiseFit | None = None
    node_test: NodeTest | None = None
    llc: list[LLCPoint] = field(default_factory=list)  # λ̂ at some checkpoints (compare.llc)
    llc_config: LLCConfig | None = None  # the sampler's settings, where λ̂ was estimated
    seconds: dict[str, float] = field(default_factory=dict)
    # the final network seen on every input, for plots drawn right after (not stored)
    probe: Probe | None = field(default=None, compare=False, repr=False,
                                metadata={"json": False})  # fmt: skip


@dataclass(frozen=True)
class Analysis:
    """One network taken apart: the analysis used, its circuit, each candidate's match, the
    verdict, the logit fit (basis and node, which the progress measures hold fixed) and the
    probe itself."""

    analysis: str
    why: str
    circuit: Circuit | None
    candidates: list[ProgramMatch]
    match: Match
    fit: LogitFit | None
    probe: Probe
    noise: NoiseFit | None
    node_test: NodeTest | None = None


def which_analysis(task: Task) -> tuple[str, str]:
    """(analysis, why): the group's irreps for a group task, Fourier over Z_n otherwise."""
    if task.group is not None:
        return IRREPS, (
            f"{task.group}'s irreducible representations: its circuit is Σ_ρ α_ρ χ_ρ(u·c⁻¹) "
            "(Chughtai et al. 2023; Fourier modes are the irreps of Z_p)"
        )
    return FOURIER, ""


def program_tables(expr: str, kind: str, task: Task, split: Split) -> tuple[Expr | None, np.ndarray]:
    """A candidate's program (None for the table) and its (n, n) table.

    The literal table (kind "table") answers the training pairs and, elsewhere, the most
    common training output — as the synthesizer prices it.
    """
    from synth.core import table_default

    n = task.n
    if kind == "table":
        f = np.full((n, n), table_default(split, n))
        f[split.x_train, split.y_train] = split.out_train
        return None, f
    from synth import parse_program

    program = parse_program(expr, task)
    x, y = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return program, task.algebra.values(program, x, y)


def depends_on_both(v: np.ndarray) -> bool:
    """Whether an (n, n) table v(x, y) varies with x for some y and with y for some x."""
    return bool((v != v[:1, :]).any() and (v != v[:, :1]).any())


class _Matcher:
    """Scores candidates against one probed network (the shared state of analyse_model)."""

    def __init__(self, task: Task, split: Split, seen: Probe, intervener: Intervener | None):
        self.task, self.split, self.intervener = task, split, intervener
        self.domain = task.domain
        self.train, self.test = split.masks(task.n)
        self.prediction = np.where(task.domain, seen.prediction, -1)
        self.logits = LogitView(seen.logits, task.domain)
        self.x, self.y = np.meshgrid(np.arange(task.n), np.arange(task.n), indexing="ij")

    def match(self, rank: int, expr: str, kind: str, bits: float | None) -> ProgramMatch:
        program, f = program_tables(expr, kind, self.task, self.split)
        scores = {
            "behaviour": behaviour(self.prediction, f, self.domain),
            "behaviour_train": behaviour(self.prediction, f, self.domain & self.train),
            "behaviour_test": behaviour(self.prediction, f, self.domain & self.test),
            "logit_correlation": self.logits.correlation(f[self.domain]),
            "intervention": float("nan"),
        }
        nodes = []
        if program is not None and self.intervener is not None:
            algebra = self.task.algebra
            for node in program.internal_nodes():
                if depends_on_both(algebra.values(node, self.x, self.y)):
                    nodes.append(NodeMatch.of(node.to_text(), self.intervener.node(program, node)))
            best = [nd.best for nd in nodes if np.isfinite(nd.best)]
            scores["intervention"] = float(np.mean(best)) if best else float("nan")
        text = program.to_text() if program is not None else expr
        return ProgramMatch(rank, text, kind, bits, scores, nodes)


def _bits_of(expr: str, task: Task, split: Split) -> float:
    """A program's two-part bits on the training labels, as the synthesizer prices it."""
    from synth import parse_program
    from synth.core import score

    return score(parse_program(expr, task), split, task.algebra).bits


def analyse_model(
    model,
    task: Task,
    split: Split,
    programs: list,
    user_programs: tuple[str, ...] = (),
    on_progress: Callable[[CompareProgress], None] | None = None,
    node: str | None = None,
) -> Analysis:
    """Extract ``model``'s circuit and match it against the candidates.

    ``programs`` are ranked programs (anything with ``expr``, ``kind`` and ``bits``: a
    :class:`synth.RankedProgram` or a dict of those keys), best first; ``user_programs`` are
    expressions to test as well. Near misses of the best-behaving program are added. The
    circuit is read through the nodes the programs propose (:mod:`compare.nodes`), or through
    ``node`` alone when one is given, with its controls (:func:`compare.branches.read_user_node`).
    """
    from compare.network import NEURON_LAYER, probe

    def report(stage: str, done: int, total: int) -> None:
        if on_progress:
            on_progress(CompareProgress(stage, done, total))

    report("extract", 0, 1)
    seen = probe(model, task.n)
    analysis, why = which_analysis(task)
    texts = [get(p, "expr") for p in programs if get(p, "kind") != "table"]
    texts += list(user_programs)
    tested = None
    if node is not None:  # the user's hypothesis: read through that node alone
        reading, tested = read_user_node(seen.logits, task, split, node)
    else:
        reading = choose_node(seen.logits, task, split, logit_nodes(task, texts))
    circuit = extract_circuit(seen.logits, task, split, seen.embedding, seen.neurons,
                              NEURON_LAYER, programs=texts, reading=reading)  # fmt: skip
    fit = reading.fit
    readouts = {name: M.detach().double().cpu().numpy()
                for name, M in model.linear_readouts().items() if name in seen.layers}  # fmt: skip
    intervener = Intervener(
        {name: (seen.layers[name], M) for name, M in readouts.items()}, seen.logits,
        task.domain, task.algebra, fit.node.basis,
        circuit.key_frequencies if circuit.found else [], seed=split.seed,
    )  # fmt: skip
    report("extract", 1, 1)

    matcher = _Matcher(task, split, seen, intervener)
    todo = [(get(p, "expr"), get(p, "kind"), get(p, "bits")) for p in programs]
    known = {expr for expr, _, _ in todo}
    todo += [(e, "user", _bits_of(e, task, split)) for e in dict.fromkeys(user_programs)
             if e not in known]  # fmt: skip
    rows = []
    for rank, (expr, kind, bits) in enumerate(todo, start=1):
        rows.append(matcher.match(rank, expr, kind, bits))
        report("match", rank, len(todo))
    # near misses of the best-behaving program: the controls evidence must beat
    best = best_candidate(rows)
    controls = []
    if best is not None:
        from synth import parse_program

        known = {r.program for r in rows}
        for text in near_misses(parse_program(best.program, task), task):
            if text not in known:
                known.add(text)
                controls.append(matcher.match(len(rows) + len(controls) + 1, text, "control",
                                              _bits_of(text, task, split)))  # fmt: skip
    test_acc = behaviour(matcher.prediction, task.table, task.domain & matcher.test)
    match = verdict(rows, test_acc, controls)
    if not circuit.found and best is not None and node is None:  # a conditional, per branch
        from synth import parse_program

        branches = read_branches(seen.logits, task, split, parse_program(best.program, task))
        circuit = dataclasses.replace(circuit, branches=branches)
    return Analysis(analysis, why, circuit, rows + controls, match, fit, seen,
                    noise_fit(seen, task, split), tested)  # fmt: skip


def get(program, key: str):
    return program.get(key) if isinstance(program, dict) else getattr(program, key)


def noise_fit(seen: Probe, task: Task, split: Split) -> NoiseFit | None:
    """How many noisy training labels the network reproduces, and how many it corrects."""
    if not split.n_noisy:
        return None
    noisy = split.out_train != split.clean_train
    pred = seen.prediction[split.x_train[noisy], split.y_train[noisy]]
    return NoiseFit(int(noisy.sum()), int((pred == split.out_train[noisy]).sum()),
                    int((pred == split.clean_train[noisy]).sum()))  # fmt: skip


def load_or_synthesize(run, on_progress=None):
    """The run folder's ``synth.json`` if it is for this task and split; else a fresh search,
    saved there only where no ``synth.json`` exists (and the folder is writable): a stale,
    corrupt or foreign file, or a link, is the user's to keep, never overwritten."""
    from synth import SynthResult, synthesize

    path = Path(run.run_dir) / SYNTH_FILE
    split = run.split
    if path.is_file():
        try:
            result = SynthResult.from_json(read_json_capped(path, MAX_SYNTH_BYTES, "synth file"))
        except (TaskError, ValueError, KeyError, TypeError, AttributeError):
            result = None  # unreadable or stale: search again
        if (
            result is not None
            and result.n == run.task.n
            and result.task == run.task.name
            and result.train_frac == split.train_frac
            and result.seed == split.seed
        ):
            return result
    if on_progress:
        on_progress(CompareProgress("synth", 0, 1))
    result = synthesize(run.task, split)
    if not os.path.lexists(path):
        try:
            atomic_write_json(path, result.to_json())
        except TaskError:  # a read-only run folder: use the result, keep nothing
            pass
    if on_progress:
        on_progress(CompareProgress("synth", 1, 1))
    return result


def compare_run(
    run_dir,
    top_k: int = 5,
    synth_result=None,
    on_progress: Callable[[CompareProgress], None] | None = None,
    progress: bool = True,
    user_programs: tuple[str, ...] = (),
    node: str | None = None,
    llc: LLCConfig | None = None,
    llc_checkpoints: int = LLC_CHECKPOINTS,
) -> CompareResult:
    """Compare the network of a run folder with the synthesizer's top ``top_k`` programs and
    the ``user_programs`` (expressions) given.

    ``synth_result`` (a :class:`synth.SynthResult`) is used if given; otherwise the run
    folder's ``synth.json``, or a fresh synthesis of the run's task and split (saved as
    ``synth.json``). The literal table is always matched too, as the memorization baseline.
    ``progress=False`` skips the per-checkpoint measures (and so the phases after
    memorization and the description-length curve).
    ``node`` reads the network through that node alone, as a hypothesis tested against its
    controls (``result.node_test``).
    ``run_dir`` is a run folder's path, or the folder already loaded
    (:class:`neural.store.LoadedRun`). ``llc`` (SGLD's settings) also estimates the local
    learning coefficient at ``llc_checkpoints`` of the checkpoints (:mod:`compare.llc`).
    Raises :class:`neural.store.RunError` (a :class:`~taskcore.errors.TaskError`) when it is
    not a usable run folder.
    """
    from compare.network import torch_threads
    from neural.store import LoadedRun, load_run

    seconds: dict[str, float] = {}
    run = run_dir if isinstance(run_dir, LoadedRun) else load_run(run_dir)
    task, split = run.task, run.split
    t0 = time.perf_counter()
    synth_result = synth_result or load_or_synthesize(run, on_progress)
    seconds["synth"] = time.perf_counter() - t0
    programs = list(synth_result.programs[:top_k])
    programs += [p for p in synth_result.programs[top_k:] if p.kind == "table"][:1]

    def stage_done(stage: str) -> Callable[[int, int], None]:
        def done_of(done: int, total: int) -> None:
            if on_progress:
                on_progress(CompareProgress(stage, done, total))

        return done_of

    # One torch thread: the batched passes are small, and on 2 busy cores a thread pool
    # made the progress measures several times slower (benchmarks/compare.py).
    with torch_threads(COMPARE_THREADS):
        t0 = time.perf_counter()
        model = run.load_model()
        found = analyse_model(model, task, split, programs, user_programs, on_progress, node)
        seconds["extract_and_match"] = time.perf_counter() - t0

        points: list[ProgressPoint] = []
        if progress and run.checkpoint_steps and found.circuit is not None:
            t0 = time.perf_counter()
            points = progress_measures(run, found.circuit, found.fit, stage_done("progress"))
            seconds["progress"] = time.perf_counter() - t0
        phases = detect_phases(points, run.metrics, found.circuit)
    llc_points: list[LLCPoint] = []
    if llc is not None and run.checkpoint_steps:  # on every core: a few hundred full passes each
        t0 = time.perf_counter()
        marks = [s for s, _ in events.phase_columns(run.checkpoint_steps, phases.to_json())]
        steps = llc_steps(run.checkpoint_steps, marks, llc_checkpoints)
        llc_points = llc_over_training(run, steps, llc, stage_done("llc"))
        seconds["llc"] = time.perf_counter() - t0
    return CompareResult(
        run_dir=str(run.run_dir), task=task.name, n=task.n, analysis=found.analysis, why=found.why,
        circuit=found.circuit, match=found.match, candidates=found.candidates, phases=phases,
        progress=points, dl_curve=dl_curve(points), noise=found.noise,
        node_test=found.node_test, llc=llc_points, llc_config=llc if llc_points else None,
        seconds=seconds,
        probe=found.probe,
    )  # fmt: skip
