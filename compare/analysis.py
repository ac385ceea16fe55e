"""compare's entry points: analyse one network, or a whole run folder.

:func:`analyse_model` runs the network once on every input (:func:`compare.network.probe`),
extracts its circuit and matches it against the programs; :func:`compare_run` does that for
the final model of a run folder, then measures every checkpoint (:mod:`compare.progress`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from compare.circuit import Circuit, extract_circuit
from compare.logits import LogitFit, candidate_bases, choose_form
from compare.match import (
    Candidate,
    Match,
    NetworkView,
    ProgramMatch,
    layer_bank,
    logit_power,
    match_program,
    verdict,
)
from compare.network import Probe
from compare.progress import Phases, ProgressPoint, detect_phases, progress_measures
from taskcore.errors import TaskError
from taskcore.files import atomic_write_json
from taskcore.serial import JsonMixin
from taskcore.table import Split, Task

SYNTH_FILE = "synth.json"
COMPARE_THREADS = 1


@dataclass(frozen=True)
class CompareProgress(JsonMixin):
    """What ``on_progress`` receives: a stage ("synth", "extract", "match", "progress") and
    how far it is (``done`` of ``total``)."""

    stage: str
    done: int
    total: int


@dataclass(frozen=True)
class CompareResult(JsonMixin):
    """Everything compare found about one run, JSON-ready (``to_json``/``from_json``)."""

    run_dir: str | None
    task: str
    n: int
    circuit: Circuit
    match: Match
    programs: list[ProgramMatch]
    phases: Phases
    progress: list[ProgressPoint] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    # the final network seen on every input, for plots drawn right after (not stored)
    probe: Probe | None = field(default=None, compare=False, repr=False,
                                metadata={"json": False})  # fmt: skip


@dataclass(frozen=True)
class Analysis:
    """One network taken apart: its circuit, each program's match, the verdict, the logit
    fit (basis and form, which the progress measures hold fixed) and the probe itself."""

    circuit: Circuit
    programs: list[ProgramMatch]
    match: Match
    fit: LogitFit
    probe: Probe


def program_tables(
    expr: str, kind: str, task: Task, split: Split
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A ranked program's (n, n) table and its internal nodes' (n, n) values.

    The literal table (kind "table") answers the training pairs and, elsewhere, the most
    common training output — as the synthesizer prices it; it has no internal nodes.
    """
    n = task.n
    if kind == "table":
        f = np.full((n, n), int(np.bincount(split.out_train, minlength=n).argmax()))
        f[split.x_train, split.y_train] = split.out_train
        return f, {}
    from synth import parse_program

    program = parse_program(expr, task)
    algebra = task.algebra
    x, y = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    nodes = {node.to_text(): algebra.values(node, x, y) for node in program.internal_nodes()}
    return algebra.values(program, x, y), nodes


def analyse_model(
    model,
    task: Task,
    split: Split,
    programs: list,
    on_progress: Callable[[CompareProgress], None] | None = None,
) -> Analysis:
    """Extract ``model``'s circuit and match it against ``programs``.

    ``programs`` are ranked programs (anything with ``expr``, ``kind`` and ``bits``: a
    :class:`synth.RankedProgram` or a dict of those keys), best first.
    """
    from compare.network import NEURON_LAYER, probe

    def report(stage: str, done: int, total: int) -> None:
        if on_progress:
            on_progress(CompareProgress(stage, done, total))

    report("extract", 0, 1)
    seen = probe(model, task.n)
    train, _ = split.masks(task.n)
    fit = choose_form(seen.logits, candidate_bases(task))
    circuit = extract_circuit(
        seen.logits, task, train, seen.embedding, seen.neurons, NEURON_LAYER, fit=fit
    )
    report("extract", 1, 1)
    power = logit_power(seen.logits, fit.form.basis)
    pred = np.where(task.domain, seen.prediction, -1)
    # the logits are the last "layer": for the root node they say whether the output is a
    # function of the program's value; the hidden layers say where it was computed
    layers = layer_bank(
        {**seen.layers, "logits": seen.logits.reshape(task.n * task.n, task.n)}, task.domain
    )
    view = NetworkView(pred, power, layers, task.domain, train, fit.form.basis)
    rows = []
    for rank, prog in enumerate(programs, start=1):
        get = prog.get if isinstance(prog, dict) else lambda k, p=prog: getattr(p, k)
        f, nodes = program_tables(get("expr"), get("kind"), task, split)
        rows.append(match_program(Candidate(rank, get("expr"), get("kind"), get("bits"), f, nodes),
                                  view))  # fmt: skip
        report("match", rank, len(programs))
    return Analysis(circuit, rows, verdict(rows, circuit), fit, seen)


def load_or_synthesize(run, on_progress=None):
    """The run folder's ``synth.json`` if it is for this task and split; else a fresh search,
    saved there (when the folder is writable)."""
    from synth import SynthResult, synthesize

    path = Path(run.run_dir) / SYNTH_FILE
    split = run.split
    if path.exists():
        try:
            result = SynthResult.from_json(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
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
    try:
        atomic_write_json(path, result.to_json())
    except TaskError:  # a read-only run folder: use the result, keep nothing
        pass
    if on_progress:
        on_progress(CompareProgress("synth", 1, 1))
    return result


def compare_run(
    run_dir: str | Path,
    top_k: int = 5,
    synth_result=None,
    on_progress: Callable[[CompareProgress], None] | None = None,
    progress: bool = True,
) -> CompareResult:
    """Compare the network of a run folder with the synthesizer's top ``top_k`` programs.

    ``synth_result`` (a :class:`synth.SynthResult`) is used if given; otherwise the run
    folder's ``synth.json``, or a fresh synthesis of the run's task and split (saved as
    ``synth.json``). The literal table is always matched too, as the memorization baseline.
    ``progress=False`` skips the per-checkpoint measures (and the phases).
    Raises :class:`neural.store.RunError` (a :class:`~taskcore.errors.TaskError`) when
    ``run_dir`` is not a usable run folder.
    """
    from compare.network import torch_threads
    from neural.store import load_run

    seconds: dict[str, float] = {}
    run = load_run(run_dir)
    task, split = run.task, run.split
    t0 = time.perf_counter()
    synth_result = synth_result or load_or_synthesize(run, on_progress)
    seconds["synth"] = time.perf_counter() - t0
    programs = list(synth_result.programs[:top_k])
    programs += [p for p in synth_result.programs[top_k:] if p.kind == "table"][:1]

    def step_done(done: int, total: int) -> None:
        if on_progress:
            on_progress(CompareProgress("progress", done, total))

    # One torch thread: the batched passes are small, and on 2 busy cores a thread pool
    # made the progress measures 4× slower (measured: 15.4 s vs 3.9 s over 51 checkpoints).
    with torch_threads(COMPARE_THREADS):
        t0 = time.perf_counter()
        model = run.load_model()
        found = analyse_model(model, task, split, programs, on_progress)
        circuit, fit = found.circuit, found.fit
        seconds["extract_and_match"] = time.perf_counter() - t0

        points: list[ProgressPoint] = []
        phases = detect_phases([], run.metrics)
        if progress and run.checkpoint_steps:
            t0 = time.perf_counter()
            points = progress_measures(run, circuit, fit, step_done)
            phases = detect_phases(points, run.metrics)
            seconds["progress"] = time.perf_counter() - t0
    return CompareResult(
        run_dir=str(run_dir), task=task.name, n=task.n, circuit=circuit, match=found.match,
        programs=found.programs, phases=phases, progress=points, seconds=seconds,
        probe=found.probe,
    )  # fmt: skip
