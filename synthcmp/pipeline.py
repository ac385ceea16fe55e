"""``synthcmp run`` as a function: synthesize, train, compare and draw, on one shared split.

The stages run in this order, all on ``task.split(config.train_frac, config.seed)``:

1. **synth** — the shortest programs for the training pairs (:func:`synth.synthesize`);
2. **train** — the network, stored in the run folder (:func:`neural.train`);
3. **compare** — the network's circuit, matched against the programs (:func:`compare.compare_run`);
4. **plots** — the figures of :mod:`synthcmp.render.figures.run`, drawn from the run.

The result is ``report.json`` in the run folder: ``task``, ``synth``, ``train`` and
``compare`` hold the documents that ``synthcmp synth/train/compare --json`` print, and
``ladder`` is the description-length ladder, the point of the project in four numbers:

* the shortest program that fits, with its exceptions: L(P) + L(data | P) bits;
* the circuit extracted from the network: its template plus its exceptions;
* the memorized table: every training pair's answer written out;
* set apart, the network's raw parameters at float32: 32 bits per parameter — a
  description of the network, not of the data.

The first three are one two-part code on the training labels (:mod:`synth.mdl`), so they
compare: a network that grokked has a circuit a few bits longer than the program; one that
memorized has no circuit, and nothing shorter than the table. The report is rewritten after every stage, so an interrupted run
keeps what it finished, and ``synthcmp run … --resume`` finishes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from compare import CompareResult
from compare.llc import CHECKPOINTS as LLC_CHECKPOINTS
from neural.llc import LLCConfig
from synth import SynthResult
from synth.ladder import Rung
from taskcore.errors import TaskError
from taskcore.events import BasisKind
from taskcore.files import atomic_write_json
from taskcore.serial import JsonMixin
from taskcore.table import Task

REPORT = "report.json"
SYNTH = "synth.json"  # the name compare looks for (compare.SYNTH_FILE)
PLOTS = {
    "training": "training.png",
    "spectrum": "spectrum.png",
    "circles": "circles.png",
    "logit_fit": "logit_fit.png",
    "progress": "progress.png",
    "description_length": "description_length.png",
    "llc_traces": "llc_traces.png",
    "predictions": "predictions.png",
}


@dataclass(frozen=True)
class RunOptions:
    """What ``synthcmp run`` passes through to the stages (``None``: the stage's default)."""

    model: str = "transformer"
    frac: float | None = None
    steps: int | None = None
    seed: int = 0
    top: int = 5
    plots: bool = True
    device: str = "cpu"
    programs: tuple[str, ...] = ()  # expressions to match besides the synthesizer's
    optimizer: dict = field(default_factory=dict)  # lr / weight_decay given on the command line
    llc: LLCConfig | None = None  # SGLD's settings: estimate λ̂ over training (compare.llc)
    llc_checkpoints: int = LLC_CHECKPOINTS


@dataclass
class Hooks:
    """Optional callbacks through which the shell shows progress; the pipeline never prints."""

    on_stage: Callable[[str], None] | None = None
    on_synth: Callable[[object], None] | None = None
    on_step: Callable[[object], None] | None = None
    on_compare: Callable[[object], None] | None = None

    def stage(self, name: str) -> None:
        if self.on_stage:
            self.on_stage(name)


def train_config(task: Task, options: RunOptions):
    """The trainer's measured defaults for the model, with the options that were given."""
    from neural import default_config
    from taskcore.table import default_train_frac

    changes = {"seed": options.seed, "device": options.device}
    changes["train_frac"] = options.frac if options.frac is not None else default_train_frac(task)
    changes.update(options.optimizer)
    if options.steps is not None:
        changes["steps"] = options.steps
    return default_config(options.model, **changes)


def resumed_config(run_dir: Path, options: RunOptions):
    """The stored settings of the run in ``run_dir``; only ``steps`` and ``device`` may change."""
    from neural.store import read_config

    steps = {"steps": options.steps} if options.steps is not None else {}
    return read_config(run_dir).replace(device=options.device, **steps)


def run_pipeline(
    task: Task,
    run_dir: Path,
    options: RunOptions,
    hooks: Hooks | None = None,
    resume: bool = False,
    force: bool = False,
) -> Report:
    """Run every stage into ``run_dir`` and return the report.

    ``run_dir`` must be new or empty (``force``: an old run folder, which is deleted first).
    ``resume`` finishes an interrupted run there: training goes on from its resume point, then
    compare and the plots run and the report is written whole. The folder is locked for the
    whole pipeline; a run that stops before training saved anything leaves no folder behind.
    """
    from neural.store import open_run
    from neural.train import check_device

    check_device(options.device)  # before any folder is made
    with open_run(run_dir, resume=resume, force=force):
        return _stages(task, run_dir, options, hooks or Hooks(), resume)


@dataclass
class Report(JsonMixin):
    """What ``synthcmp run`` makes, and what :func:`synthcmp.run` returns: ``report.json``.

    ``synth`` the ranked programs, ``train`` the run's ``summary.json``, ``compare`` the
    circuit and the match, ``ladder`` the description-length ladder (:mod:`synth.ladder`),
    ``plots`` {figure: file name}. A stage that has not run yet (an interrupted run) is None.
    """

    run_dir: str
    task: dict  # the task and its shared split (task_section)
    seconds: dict[str, float] = field(default_factory=dict)
    synth: SynthResult | None = None
    train: dict | None = None
    compare: CompareResult | None = None
    ladder: list[Rung] = field(default_factory=list)
    plots: dict[str, str] = field(default_factory=dict)

    @property
    def circuit(self):
        return self.compare.circuit if self.compare is not None else None

    @property
    def match(self):
        return self.compare.match if self.compare is not None else None

    def to_json(self) -> dict:
        """``report.json``: a stage that has not run (or drew nothing) has no key at all, so
        a reader asks ``"train" in report``, as of a report of an interrupted run."""
        return {k: v for k, v in super().to_json().items()
                if k == "seconds" or v not in (None, [], {})}  # fmt: skip

    def save(self) -> None:
        atomic_write_json(Path(self.run_dir) / REPORT, self.to_json())


def _stages(task: Task, run_dir: Path, options: RunOptions, hooks: Hooks, resume: bool) -> Report:
    from compare import compare_run, load_or_synthesize
    from neural import TrainingInterrupted, load_run, train
    from synth import SynthConfig, synthesize
    from synth.ladder import ladder

    config = resumed_config(run_dir, options) if resume else train_config(task, options)
    split = task.split(config.train_frac, config.seed)
    report = Report(str(run_dir), task_section(task, split))
    seconds = report.seconds

    hooks.stage("synth")
    t0 = time.perf_counter()
    if resume and (run_dir / SYNTH).is_file():  # the programs found before the interruption
        report.synth = load_or_synthesize(load_run(run_dir))
    else:
        report.synth = synthesize(task, split, SynthConfig(top_k=options.top), hooks.on_synth)
    seconds["synth"] = time.perf_counter() - t0

    hooks.stage("train")
    t0 = time.perf_counter()
    try:
        run = train(task, config, on_step=hooks.on_step, run_dir=run_dir, resume=resume)
    except TrainingInterrupted:
        atomic_write_json(run_dir / SYNTH, report.synth.to_json())
        seconds["train"] = time.perf_counter() - t0
        report.save()
        raise
    seconds["train"] = time.perf_counter() - t0
    atomic_write_json(run_dir / SYNTH, report.synth.to_json())
    report.train = run.to_json()
    report.save()

    hooks.stage("compare")
    t0 = time.perf_counter()
    report.compare = compare_run(run_dir, top_k=options.top, synth_result=report.synth,
                                 on_progress=hooks.on_compare, user_programs=options.programs,
                                 llc=options.llc, llc_checkpoints=options.llc_checkpoints)  # fmt: skip
    seconds["compare"] = time.perf_counter() - t0
    n_params = sum(int(p.numel()) for p in run.model.parameters())
    report.ladder = ladder(report.synth.programs, report.circuit.rung(split.n_train, task.n),
                           n_params, split.n_train, task.n)  # fmt: skip
    report.save()

    if options.plots:
        hooks.stage("plots")
        t0 = time.perf_counter()
        report.plots = draw_plots(run_dir, task, report)
        seconds["plots"] = time.perf_counter() - t0
    seconds["total"] = sum(seconds.values())
    report.save()
    return report


def task_section(task: Task, split) -> dict:
    """Section 1 of the report: the task and its shared split."""
    return {
        **task.describe(),
        "train_frac": split.train_frac,
        "seed": split.seed,
        "n_train": split.n_train,
        "n_test": split.n_test,
    }


def draw_plots(run_dir: Path, task: Task, report: Report) -> dict[str, str]:
    """Draw every figure into the run folder from the report (whose compare result holds the
    probe of the final network: it is not run again); returns {figure: file name}. Figures
    of a circuit are drawn only where there is one."""
    from neural.store import read_metrics
    from synth import parse_program
    from synthcmp.render.figures import run as plots

    comp = report.compare
    phases = {k: v for k, v in comp.phases.to_json().items() if k in plots.PHASE_COLORS}
    title = f"{task.name}: {task.formula}"
    metrics = read_metrics(run_dir)
    circuit, seen = comp.circuit, comp.probe
    drawn = {}

    drawn["training"] = plots.plot_training(metrics, phases, run_dir / PLOTS["training"], title)
    if circuit is not None:
        from compare.circuit import logit_model_points
        from compare.embedding import circle_coordinates
        from compare.logits import Node

        basis = circuit.node_obj().basis
        irreps = circuit.basis == BasisKind.IRREPS
        shares = circuit.embedding_share or circuit.frequency_share
        kind = {BasisKind.DLOG: "discrete-log Fourier over Z_", BasisKind.ADDITIVE: "Fourier over Z_"}
        over = f"irreps of {circuit.group}" if irreps else f"{kind[circuit.basis]}{circuit.m}"
        e = circuit.embedding_node
        drawn["spectrum"] = plots.plot_spectrum(
            list(shares[1:]), circuit.key_frequencies, run_dir / PLOTS["spectrum"],
            f"{title} — embedding spectrum" + ("" if irreps or e == "x" else f" in e(x) = {e}")
            + f" ({over})",
            names=circuit.irrep_names if irreps else None,
        )  # fmt: skip
        if not irreps:
            coords, positions = circle_coordinates(
                seen.embedding, Node(basis, e), task, circuit.key_frequencies)
            drawn["circles"] = plots.plot_circles(
                coords, positions, basis.residue[positions], basis.m, run_dir / PLOTS["circles"],
                f"{title} — each residue's {'x' if e == 'x' else e} on (cos, sin) of a key "
                "frequency" + (" (in discrete logs)" if circuit.basis == BasisKind.DLOG else ""),
            )  # fmt: skip
        if circuit.key_frequencies:
            model, actual = logit_model_points(circuit, seen.logits, task)
            drawn["logit_fit"] = plots.plot_logit_fit(
                model, actual, circuit.fve, run_dir / PLOTS["logit_fit"],
                f"{title} — the logit model through u = {circuit.node} against the network",
            )  # fmt: skip
    if comp.progress:
        drawn["progress"] = plots.plot_progress(
            [p.to_json() for p in comp.progress], phases, run_dir / PLOTS["progress"],
            f"{title} — progress measures",
        )  # fmt: skip
    llc = [p.to_json() for p in comp.llc]
    if comp.dl_curve or llc:
        rungs = {r.rung: r.bits for r in report.ladder}
        drawn["description_length"] = plots.plot_description_length(
            comp.dl_curve, rungs.get("shortest program"), rungs.get("memorized table"),
            phases, run_dir / PLOTS["description_length"],
            f"{title} — description length of the training labels over training"
            + (", and λ̂" if llc else ""), llc,
        )  # fmt: skip
    if llc and comp.llc_config is not None:
        drawn["llc_traces"] = plots.plot_llc_traces(
            llc, comp.llc_config.burnin, run_dir / PLOTS["llc_traces"],
            f"{title} — SGLD chains behind λ̂ (one line per chain and checkpoint)",
        )  # fmt: skip
    matched = comp.match.program
    if matched and task.domain.any():
        x, y = np.meshgrid(np.arange(task.n), np.arange(task.n), indexing="ij")
        try:
            table = task.algebra.values(parse_program(matched, task), x, y)
        except TaskError:  # the literal table was the best match: draw the task itself
            table = task.table
        drawn["predictions"] = plots.plot_predictions(
            seen.prediction, np.where(task.domain, table, -1), task.domain,
            run_dir / PLOTS["predictions"], f"{title} — network vs matched program", matched,
        )  # fmt: skip
    return {name: path.name for name, path in drawn.items()}
