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

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synthcmp.render.html import GENERATOR, PAGE_START
from taskcore.errors import TaskError
from taskcore.files import atomic_write_json, check_writable_name
from taskcore.table import Task

REPORT = "report.json"
# what the HTML writer puts in a page's head (and put there before it had a generator tag):
# a file that holds one is a report synthcmp wrote, which --html may overwrite
HTML_MARKERS = (GENERATOR, "<title>synthcmp · ")
SYNTH = "synth.json"  # the name compare looks for (compare.SYNTH_FILE)
PLOTS = {
    "training": "training.png",
    "spectrum": "spectrum.png",
    "circles": "circles.png",
    "logit_fit": "logit_fit.png",
    "progress": "progress.png",
    "description_length": "description_length.png",
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


def is_our_report(path: Path) -> bool:
    """Was the file at ``path`` written by synthcmp's HTML writer (so it may be overwritten)?

    Its page starts as the writer starts every page, and its ``<head>`` holds the generator
    tag (or, from before there was one, a title that starts "synthcmp · "): a page of the
    user's that merely quotes the tag in its text is not ours."""
    try:
        with open(path, "rb") as f:
            start = f.read(4096).decode("utf-8", errors="replace")
    except OSError:
        return False
    head = start.partition("</head>")[0]
    return start.startswith(PAGE_START) and any(marker in head for marker in HTML_MARKERS)


def check_html_target(path: Path, force: bool) -> None:
    """Before a run starts: can the HTML report be written to ``path`` without harm?

    Its folder must exist; an existing file is overwritten only if it is a report synthcmp
    wrote, or with ``force`` (never a link or a non-file, whatever ``force`` says)."""
    folder = path.parent
    if not folder.is_dir():
        raise TaskError(f"cannot write the HTML report {path}: folder {folder} does not exist")
    check_writable_name(path, "--html")
    if os.path.lexists(path):
        if path.is_symlink() or not path.is_file():
            raise TaskError(
                f"--html {path} exists and is not a regular file; refusing to replace it"
            )
        if not force and not is_our_report(path):
            raise TaskError(
                f"--html {path} exists and is not a report synthcmp wrote; "
                "use --force to overwrite it"
            )
    if not os.access(folder, os.W_OK):
        raise TaskError(f"cannot write the HTML report {path}: folder {folder} is not writable")


def run_pipeline(
    task: Task,
    run_dir: Path,
    options: RunOptions,
    hooks: Hooks | None = None,
    resume: bool = False,
    force: bool = False,
) -> dict:
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


def _stages(task: Task, run_dir: Path, options: RunOptions, hooks: Hooks, resume: bool) -> dict:
    from compare import compare_run, load_or_synthesize
    from neural import TrainingInterrupted, load_run, train
    from synth import SynthConfig, synthesize

    config = resumed_config(run_dir, options) if resume else train_config(task, options)
    split = task.split(config.train_frac, config.seed)
    seconds: dict[str, float] = {}
    report: dict = {"run_dir": str(run_dir), "task": task_section(task, split), "seconds": seconds}

    def save() -> None:
        atomic_write_json(run_dir / REPORT, report)

    hooks.stage("synth")
    t0 = time.perf_counter()
    if resume and (run_dir / SYNTH).is_file():  # the programs found before the interruption
        synth_result = load_or_synthesize(load_run(run_dir))
    else:
        synth_result = synthesize(task, split, SynthConfig(top_k=options.top), hooks.on_synth)
    seconds["synth"] = time.perf_counter() - t0
    report["synth"] = synth_result.to_json()

    hooks.stage("train")
    t0 = time.perf_counter()
    try:
        run = train(task, config, on_step=hooks.on_step, run_dir=run_dir, resume=resume)
    except TrainingInterrupted:
        atomic_write_json(run_dir / SYNTH, report["synth"])
        seconds["train"] = time.perf_counter() - t0
        save()
        raise
    seconds["train"] = time.perf_counter() - t0
    atomic_write_json(run_dir / SYNTH, report["synth"])
    report["train"] = run.to_json()
    save()

    hooks.stage("compare")
    t0 = time.perf_counter()
    result = compare_run(run_dir, top_k=options.top, synth_result=synth_result,
                         on_progress=hooks.on_compare, user_programs=options.programs)  # fmt: skip
    seconds["compare"] = time.perf_counter() - t0
    report["compare"] = result.to_json()
    report["ladder"] = ladder(report, run.model)
    save()

    if options.plots:
        hooks.stage("plots")
        t0 = time.perf_counter()
        report["plots"] = draw_plots(run_dir, task, report, result)
        seconds["plots"] = time.perf_counter() - t0
    seconds["total"] = sum(seconds.values())
    save()
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


def ladder(report: dict, model) -> list[dict]:
    """The description-length ladder (see the module docstring).

    Every rung that describes *the data* is the same two-part code on the N training pairs,
    L(model) + L(labels | model) (:mod:`synth.mdl`), and says in ``code`` what it pays for;
    a circuit that was not found has ``bits`` None. The raw parameters describe the network,
    not the data (``describes``: "network"), and are set apart.
    """
    from synth.mdl import data_bits

    task = report["task"]
    N, n = task["n_train"], task["n"]
    programs = report["synth"]["programs"]
    best = next((p for p in programs if p["kind"] == "program"), None)
    table = next((p for p in programs if p["kind"] == "table"), None)
    circuit = report["compare"].get("circuit")
    n_params = sum(int(p.numel()) for p in model.parameters())
    rungs = []
    if best is not None:
        rungs.append({
            "rung": "shortest program", "what": best["expr"], "bits": best["bits"],
            "describes": "data",
            "code": f"L(P) {best['program_bits']:.2f} (grammar) + L(labels | P) "
                    f"{best['data_bits']:.1f} ({best['exceptions']:,} exceptions of {N:,})",
            "note": f"{best['exceptions']:,} exceptions",
        })  # fmt: skip
    if circuit is not None:
        found = circuit.get("bits") is not None
        if circuit.get("key_irreps") and circuit.get("basis") == "irreps":
            keys = ", ".join(ir["name"] for ir in circuit["key_irreps"])
        else:
            keys = ", ".join(f"k={k}" for k in circuit["key_frequencies"]) or "no key frequency"
        exceptions = circuit.get("exceptions", 0)
        phase = ", phase" if circuit.get("beta") else ""
        node = circuit.get("node") or circuit.get("form") or "?"
        note = (f"faithfulness {circuit['faithfulness']:.1%}" if found else
                f"no circuit: {circuit.get('why_not_found') or 'not faithful to the network'}")
        caveat = "" if circuit.get("measures_can_fail", True) else (
            "restricted loss and key share cannot fail here (the key irreps span "
            f"{circuit.get('key_span', 1):.0%} of the functions of u): not evidence")  # fmt: skip
        rungs.append({
            "rung": "extracted circuit", "what": f"u = {node}: {keys}",
            "bits": circuit.get("bits"), "describes": "data",
            "code": f"template {circuit['template_bits']:.1f} (basis, node u at "
                    f"{circuit.get('node_bits', 0):.2f}, key irreps, α{phase}) + "
                    f"L(labels | circuit) {data_bits(exceptions, N, n):.1f} "
                    f"({exceptions:,} exceptions of {N:,}: the label or the network differs)",
            "note": note, "caveat": caveat,
        })  # fmt: skip
    if table is not None:
        rungs.append({"rung": "memorized table", "what": f"{N:,} pairs", "bits": table["bits"],
                      "describes": "data",
                      "code": f"every training label at log2 {n} bits, plus a default",
                      "note": ""})  # fmt: skip
    rungs.append({"rung": "raw parameters", "what": f"{n_params:,} × float32",
                  "bits": 32.0 * n_params, "describes": "network",
                  "code": "32 bits per parameter: the network itself, not a code of the labels",
                  "note": "describes the network, not the data"})  # fmt: skip
    return rungs


def draw_plots(run_dir: Path, task: Task, report: dict, result) -> dict[str, str]:
    """Draw every figure into the run folder from the report and the compare result (whose
    probe of the final network is reused: the network is not run again); returns
    {figure: file name}. Figures of a circuit are drawn only where there is one."""
    from neural.store import read_metrics
    from synth import parse_program
    from synthcmp.render.figures import run as plots

    comp = report["compare"]
    phases = {k: v for k, v in comp["phases"].items() if k in plots.PHASE_COLORS}
    title = f"{task.name}: {task.formula}"
    metrics = read_metrics(run_dir)
    circuit, seen = result.circuit, result.probe
    drawn = {}

    drawn["training"] = plots.plot_training(metrics, phases, run_dir / PLOTS["training"], title)
    if circuit is not None:
        from compare.circuit import logit_model_points
        from compare.embedding import circle_coordinates
        from compare.logits import Node

        basis = circuit.node_obj().basis
        irreps = circuit.basis == "irreps"
        shares = circuit.embedding_share or circuit.frequency_share
        kind = {"dlog": "discrete-log Fourier over Z_", "additive": "Fourier over Z_"}
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
                "frequency" + (" (in discrete logs)" if circuit.basis == "dlog" else ""),
            )  # fmt: skip
        if circuit.key_frequencies:
            model, actual = logit_model_points(circuit, seen.logits, task)
            drawn["logit_fit"] = plots.plot_logit_fit(
                model, actual, circuit.fve, run_dir / PLOTS["logit_fit"],
                f"{title} — the logit model through u = {circuit.node} against the network",
            )  # fmt: skip
    if comp.get("progress"):
        drawn["progress"] = plots.plot_progress(
            comp["progress"], phases, run_dir / PLOTS["progress"], f"{title} — progress measures"
        )
    if comp.get("dl_curve"):
        rungs = {r["rung"]: r["bits"] for r in report.get("ladder", [])}
        drawn["description_length"] = plots.plot_description_length(
            comp["dl_curve"], rungs.get("shortest program"), rungs.get("memorized table"),
            phases, run_dir / PLOTS["description_length"],
            f"{title} — description length of the training labels over training",
        )  # fmt: skip
    matched = comp["match"].get("program")
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
