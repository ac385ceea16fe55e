"""One cell of a sweep: a full run in its own run folder, and the database row it becomes.

A cell with all three stages is exactly ``synthcmp run`` (:func:`synthcmp.pipeline.run_pipeline`)
into ``DIR/runs/<cell folder>``; a cell with fewer stages runs those stages into the same
kind of folder and writes the same ``report.json``, with only the sections it ran. A folder
left by an interrupted attempt is replaced (only if it is provably a synthcmp folder).

:func:`run_cell` runs in a worker (a local process or a Ray task) and returns the row as
plain data; only the driver writes the database. Its numbers are read off the report by
:func:`row_from_report`, so the database holds what the run's own report says, nothing typed.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from synthcmp.sweep.db import COLUMNS
from synthcmp.sweep.spec import Cell
from taskcore.events import program_generalizes

RUNS = "runs"
SYNTH_MARKER = ".synthcmp-synth"  # a folder of a synth-only cell (no network: not a run folder)


def warm_up() -> None:
    """Import what a cell needs (torch among it), so a worker does it once, before its first
    cell, and no cell's ``seconds`` counts it."""
    import compare  # noqa: F401
    import neural  # noqa: F401
    import synth  # noqa: F401
    import synthcmp.pipeline  # noqa: F401


def run_dir_of(sweep_dir: str | Path, cell: Cell) -> Path:
    return Path(sweep_dir) / RUNS / cell.folder


def options_of(cell: Cell, job: dict):
    """The run options a cell's stages take."""
    from neural.llc import LLCConfig
    from synthcmp.pipeline import RunOptions

    return RunOptions(
        model=cell.model, frac=cell.frac, steps=cell.steps, seed=cell.seed,
        top=job.get("top", 5), plots=job.get("plots", False), device=job.get("device", "cpu"),
        optimizer={"lr": cell.lr, "weight_decay": cell.weight_decay},
        llc=LLCConfig() if cell.llc else None, llc_checkpoints=1,  # λ̂ at the final checkpoint
    )  # fmt: skip


def run_cell(job: dict) -> dict:
    """Run the cell ``job["cell"]`` (a Cell's JSON) under ``job["sweep_dir"]``; return its row.
    A job of ``job["cells"]`` — cells that differ only in their seed — only trains them, as
    one batched model (:func:`run_seeds_batched`); a job with ``trained_seconds`` finishes a
    cell such a batch trained.

    ``job`` also holds ``device``, ``top``, ``plots`` and ``attempt``. Raises whatever the run
    raises; the executor turns that into an error outcome.
    """
    from taskcore import build_task

    if "cells" in job:
        return run_seeds_batched(job)
    t0 = time.perf_counter()
    cell = Cell.from_json(job["cell"])
    sweep_dir = Path(job["sweep_dir"])
    run_dir = run_dir_of(sweep_dir, cell)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    task = build_task(cell.task_spec())
    options = options_of(cell, job)
    base = job.get("continue_from")
    if set(cell.stages) == {"synth", "train", "compare"}:
        from synthcmp.pipeline import run_pipeline

        trained = job.get("trained_seconds") is not None  # by a batch of seeds: finish it
        resume = trained or (base is not None and continue_run(Path(base), run_dir))
        report = run_pipeline(task, run_dir, options, resume=resume, force=not resume).to_json()
    else:
        report = _some_stages(task, run_dir, cell.stages, options)
    row = row_from_report(cell, report, sweep_dir, run_dir)
    row["seconds"] = time.perf_counter() - t0 + job.get("trained_seconds", 0.0)
    row["attempts"] = job.get("attempt", 1)
    return row


def run_seeds_batched(job: dict) -> dict:
    """Train the cells of ``job["cells"]`` — cells that differ only in their seed — as one
    stacked model (:func:`neural.seeds.train_seeds`: one set of kernel launches for all the
    seeds), each into its own run folder, and return ``{"trained": keys, "seconds": share}``.

    Nothing else happens here: the driver then queues each cell as an ordinary job marked
    ``trained_seconds``, whose pipeline resumes a run with nothing left to train and does the
    cell's own synthesis, compare, plots and report — in parallel across the workers, not one
    after another in this one. Each seed's numbers are those of its cell run alone, to float
    tolerance; ``share`` is the batch's training seconds over its cells."""
    from neural.seeds import train_seeds
    from synthcmp.pipeline import train_config
    from taskcore import build_task

    cells = [Cell.from_json(c) for c in job["cells"]]
    sweep_dir = Path(job["sweep_dir"])
    run_dirs = [run_dir_of(sweep_dir, c) for c in cells]
    run_dirs[0].parent.mkdir(parents=True, exist_ok=True)
    tasks = [build_task(c.task_spec()) for c in cells]
    t0 = time.perf_counter()
    train_seeds(tasks[0], [train_config(t, options_of(c, job)) for t, c in
                           zip(tasks, cells, strict=True)], run_dirs, batched=True, force=True)  # fmt: skip
    return {"trained": [c.key for c in cells], "seconds": (time.perf_counter() - t0) / len(cells)}


# what a continued cell takes from its base run: written atomically (a rename), so a hard link
# to the base's file is never written through; the report and the figures are made anew
RUN_FILES = ("config.json", "task.json", "metrics.jsonl", "summary.json", "state.pt", "model.pt",
             "synth.json")  # fmt: skip


def continue_run(base: Path, run_dir: Path) -> bool:
    """Start ``run_dir`` as a copy of the finished run ``base`` — the same cell with a smaller
    step budget — so that training resumes where that one stopped instead of starting over.

    Training is a pure function of the config and the step (:mod:`neural.schedule`), so a run
    continued from step 3,000 to 30,000 takes the very steps a 30,000-step run would; a run
    that grokked and stopped has nothing left to train. Files are hard-linked where the disk
    allows (every write in a run folder replaces its file, never changes it in place), copied
    elsewhere. Returns False — train from scratch — when ``base`` holds no resume point."""
    import os
    import shutil

    from neural.store import CHECKPOINTS, STATE, open_run

    if not (base / STATE).is_file() or not (base / "summary.json").is_file():
        return False

    def link(src: Path, dst: Path) -> None:
        try:
            os.link(src, dst)
        except OSError:  # another disk, or links not allowed: a copy
            shutil.copy2(src, dst)

    with open_run(run_dir, force=True) as folder:  # an old attempt's folder is replaced
        for name in RUN_FILES:
            if (base / name).is_file():
                link(base / name, folder / name)
        if (base / CHECKPOINTS).is_dir():
            (folder / CHECKPOINTS).mkdir(exist_ok=True)
            for item in (base / CHECKPOINTS).iterdir():
                if item.is_file():
                    link(item, folder / CHECKPOINTS / item.name)
    return True


def _some_stages(task, run_dir: Path, stages: tuple[str, ...], options) -> dict:
    """synth and/or train without compare, into a folder owned like a run folder."""
    from neural import train
    from neural.store import open_run
    from synth import SynthConfig, synthesize
    from synthcmp.pipeline import REPORT, SYNTH, task_section, train_config
    from taskcore.files import atomic_write_json, owned_folder

    config = train_config(task, options)
    split = task.split(config.train_frac, config.seed)
    seconds: dict[str, float] = {}
    report: dict = {"run_dir": str(run_dir), "task": task_section(task, split), "seconds": seconds}
    if "train" in stages:
        folder = open_run(run_dir, force=True)
    else:
        folder = owned_folder(run_dir, SYNTH_MARKER, "synthcmp sweep cell: synth only\n",
                              force=True, what="cell folder")  # fmt: skip
    with folder:
        if "synth" in stages:
            t0 = time.perf_counter()
            report["synth"] = synthesize(task, split, SynthConfig(top_k=options.top)).to_json()
            seconds["synth"] = time.perf_counter() - t0
            atomic_write_json(run_dir / SYNTH, report["synth"])
        if "train" in stages:
            t0 = time.perf_counter()
            report["train"] = train(task, config, run_dir=run_dir).to_json()
            seconds["train"] = time.perf_counter() - t0
        seconds["total"] = sum(seconds.values())
        atomic_write_json(run_dir / REPORT, report)
    return report


def row_from_report(cell: Cell, report: dict, sweep_dir: Path, run_dir: Path) -> dict:
    """The database row of a finished cell: its configuration and its report's numbers."""
    from synthcmp.pipeline import REPORT

    task = report.get("task") or {}
    row: dict = {
        **config_columns(cell), "n": task.get("n"), "status": "ok", "error": None,
        "n_train": task.get("n_train"), "n_test": task.get("n_test"),
    }  # fmt: skip
    train = report.get("train")
    if train is not None:
        final = train.get("final") or {}
        row.update(
            memorized=train.get("memorization_step") is not None,
            memorization_step=train.get("memorization_step"),
            grokked=train.get("grok_step") is not None, grok_step=train.get("grok_step"),
            steps_trained=train.get("steps"), train_acc=final.get("train_acc"),
            test_acc=final.get("test_acc"), test_acc_rising=train.get("test_acc_rising"),
            grok_seconds=train.get("grok_seconds"), flops_per_step=train.get("flops_per_step"),
            train_seconds=train.get("seconds"),
        )  # fmt: skip
        if train.get("grok_step") is not None and train.get("flops_per_step") is not None:
            row["flops_to_grok"] = float(train["flops_per_step"]) * train["grok_step"]
    synth = report.get("synth")
    if synth is not None and synth.get("programs"):
        best = synth["programs"][0]
        row.update(
            synth_program=best.get("expr") if best.get("kind") == "program" else "table",
            synth_kind=best.get("kind"), synth_bits=best.get("bits"),
            synth_program_bits=best.get("program_bits"), synth_exceptions=best.get("exceptions"),
            synth_test_acc=best.get("test_acc"),
            synth_exact_test=best.get("kind") == "program"
                             and program_generalizes(best.get("test_acc")),
        )  # fmt: skip
        stats = synth.get("stats") or {}
        row.update(synth_programs_to_best=stats.get("programs_to_best"),
                   synth_seconds_to_best=stats.get("seconds_to_best"),
                   synth_programs=stats.get("programs"),
                   synth_search_seconds=stats.get("search_seconds"),
                   synth_bits_searched=stats.get("bits_reached"))  # fmt: skip
    compare = report.get("compare")
    if compare is not None:
        match = compare.get("match") or {}
        circuit = compare.get("circuit") or {}
        row.update(
            match_program=match.get("program"), match_grade=match.get("grade"),
            verdict=match.get("verdict"), behaviour=match.get("behaviour"),
            key_frequencies=json.dumps(circuit.get("key_frequencies")) if circuit else None,
            faithfulness=circuit.get("faithfulness"),
        )  # fmt: skip
        final = (compare.get("llc") or [None])[-1]
        if final is not None:  # a number only where it is trusted; whether it was, always
            row.update(llc=final.get("llc") if final.get("trusted") else None,
                       llc_trusted=bool(final.get("trusted")))  # fmt: skip
    for rung in report.get("ladder") or []:
        column = "bits_" + str(rung.get("rung")).replace(" ", "_")
        if column in COLUMNS:
            row[column] = rung.get("bits")
    seconds = report.get("seconds") or {}
    for stage in ("synth", "train", "compare"):
        row[f"seconds_{stage}"] = seconds.get(stage)
    row["report"] = str((run_dir / REPORT).relative_to(sweep_dir))
    row["host"] = socket.gethostname()
    row["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return row


def error_row(cell: Cell, error: str, attempts: int) -> dict:
    """The row of a cell that failed on every attempt: its configuration and the error."""
    return {
        **config_columns(cell), "status": "error", "error": error, "attempts": attempts,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }  # fmt: skip


def config_columns(cell: Cell) -> dict:
    """The columns that say which cell a row is: the same for a finished and a failed one."""
    return {
        "cell": cell.key, "task": cell.task, "p": cell.p, "frac": cell.frac, "seed": cell.seed,
        "model": cell.model, "weight_decay": cell.weight_decay, "lr": cell.lr,
        "steps": cell.steps, "stages": "+".join(cell.stages),
    }  # fmt: skip
