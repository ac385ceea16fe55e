"""compare: open a trained network, extract its circuit, and hold it against the programs.

The synthesizer (:mod:`synth`) answers "what are the shortest programs that fit the
training pairs?"; the trainer (:mod:`neural`) produces a network that fits them too.
This package asks which program the network *is*:

* :mod:`compare.fourier` — the Fourier basis over Z_n and the discrete-log basis;
* :mod:`compare.circuit` — key frequencies, the logit model
  ``logit(x, y, c) ≈ Σ_k α_k cos(ω_k(u − c))``, restricted/excluded loss, the circuit as a
  program with its bits and faithfulness;
* :mod:`compare.match` — behaviour, spectrum and intermediates (η²) per program, and the
  verdict;
* :mod:`compare.progress` — the same measures over the checkpoints, and the phases;
* :mod:`compare.network` — one batched pass over all n² inputs with the activation cache;
* :mod:`compare.handbuilt` — networks wired by hand to run the Fourier algorithm.

Entry point::

    from compare import compare_run
    result = compare_run("runs/modadd-97", top_k=5)
    result.match.verdict          # "implements x + y (behaviour 100.0%, …)"
    result.to_json()              # {"circuit": …, "match": …, "phases": …, "programs": …, "progress": …}

compare imports the task core of synthcmp, :mod:`synth` and :mod:`neural`; never the CLI.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from compare.circuit import Circuit, LogitFit, candidate_bases, choose_form, extract_circuit
from compare.match import (
    Match,
    ProgramMatch,
    layer_bank,
    logit_power,
    match_program,
    verdict,
)
from compare.progress import Phases, ProgressPoint, detect_phases, progress_measures, split_masks
from synthcmp.tasks import Split, Task

SYNTH_FILE = "synth.json"
COMPARE_THREADS = 1

__all__ = [
    "Circuit",
    "CompareProgress",
    "CompareResult",
    "Match",
    "Phases",
    "ProgramMatch",
    "ProgressPoint",
    "analyse_model",
    "load_or_synthesize",
    "compare_run",
]


@dataclass(frozen=True)
class CompareProgress:
    """What ``on_progress`` receives: a stage ("synth", "extract", "match", "progress") and
    how far it is (``done`` of ``total``)."""

    stage: str
    done: int
    total: int


@dataclass(frozen=True)
class CompareResult:
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

    def to_json(self) -> dict:
        return {
            "run_dir": self.run_dir,
            "task": self.task,
            "n": self.n,
            "circuit": self.circuit.to_json(),
            "match": self.match.to_json(),
            "phases": self.phases.to_json(),
            "programs": [p.to_json() for p in self.programs],
            "progress": [p.to_json() for p in self.progress],
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> CompareResult:
        return cls(
            run_dir=data.get("run_dir"),
            task=data["task"],
            n=data["n"],
            circuit=Circuit.from_json(data["circuit"]),
            match=Match.from_json(data["match"]),
            programs=[ProgramMatch.from_json(p) for p in data.get("programs", [])],
            phases=Phases.from_json(data.get("phases", {})),
            progress=[ProgressPoint.from_json(p) for p in data.get("progress", [])],
            seconds=data.get("seconds", {}),
        )


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
    from synth import internal_nodes, parse_program

    program = parse_program(expr, task)
    x, y = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    nodes = {node.to_text(): node.evaluate(x, y) for node in internal_nodes(program)}
    return program.evaluate(x, y), nodes


def analyse_model(
    model,
    task: Task,
    split: Split,
    programs: list,
    on_progress: Callable[[CompareProgress], None] | None = None,
) -> tuple[Circuit, list[ProgramMatch], Match, LogitFit]:
    """Extract ``model``'s circuit and match it against ``programs``.

    ``programs`` are ranked programs (anything with ``expr``, ``kind`` and ``bits``: a
    :class:`synth.RankedProgram` or a dict of those keys), best first. Returns
    (circuit, one :class:`ProgramMatch` per program, the :class:`Match`, the fit used —
    the basis and form that later progress measures hold fixed).
    """
    from compare.network import NEURON_LAYER, probe

    def report(stage: str, done: int, total: int) -> None:
        if on_progress:
            on_progress(CompareProgress(stage, done, total))

    report("extract", 0, 1)
    seen = probe(model, task.n)
    train, _ = split_masks(task, split)
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
    rows = []
    spectra: dict[bytes, tuple[float, float]] = {}  # programs with one table share a spectrum
    for rank, prog in enumerate(programs, start=1):
        get = prog.get if isinstance(prog, dict) else lambda k, p=prog: getattr(p, k)
        f, nodes = program_tables(get("expr"), get("kind"), task, split)
        rows.append(
            match_program(
                rank,
                get("expr"),
                get("kind"),
                get("bits"),
                f,
                nodes,
                pred,
                power,
                layers,
                task.domain,
                train,
                fit.form.basis,
                spectra,
            )  # fmt: skip
        )
        report("match", rank, len(programs))
    return circuit, rows, verdict(rows, circuit), fit


def load_or_synthesize(run, on_progress=None):
    """The run folder's ``synth.json`` if it is for this task and split; else a fresh search,
    saved there (when the folder is writable)."""
    from synth import SynthResult, synthesize

    path = Path(run.run_dir) / SYNTH_FILE
    split = run.split
    if path.exists():
        try:
            result = SynthResult.from_json(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError):
            result = None
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
    from neural.store import atomic_write_json

    try:
        atomic_write_json(path, result.to_json())
    except OSError:  # a read-only run folder: use the result, keep nothing
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
    Raises :class:`neural.store.RunError` (a :class:`~synthcmp.errors.TaskError`) when
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
        circuit, rows, match, fit = analyse_model(model, task, split, programs, on_progress)
        seconds["extract_and_match"] = time.perf_counter() - t0

        points: list[ProgressPoint] = []
        phases = detect_phases([], run.metrics)
        if progress and run.checkpoint_steps:
            t0 = time.perf_counter()
            points = progress_measures(run, circuit, fit, step_done)
            phases = detect_phases(points, run.metrics)
            seconds["progress"] = time.perf_counter() - t0
    return CompareResult(
        run_dir=str(run_dir), task=task.name, n=task.n, circuit=circuit, match=match,
        programs=rows, phases=phases, progress=points, seconds=seconds,
    )  # fmt: skip
