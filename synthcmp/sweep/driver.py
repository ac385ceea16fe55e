"""Run a sweep: own its folder, run the missing cells on an executor, record every outcome.

The sweep folder ``DIR`` holds::

    .synthcmp-sweep    the marker: a folder synthcmp made for sweeps
    .lock              held while a sweep runs: a second sweep on DIR is refused at once
    results.db         the results database (synthcmp.sweep.db), one row per cell
    runs/<cell>/       each cell's run folder, with its report.json
    workers.log        what the local pool's workers printed (library warnings), if anything
    figures/           what ``synthcmp sweep report`` draws

:func:`run_sweep` locks ``DIR``, asks the database which cells are recorded, and runs only
the others (``retry_failed``: the ones recorded with an error too). Up to ``executor.slots``
cells run at once; as each outcome arrives the driver writes its row and commits, so an
interruption (Ctrl-C, a killed driver or worker) loses only cells that had not finished.
A cell that fails is run once more; if it fails again its row records the error. Progress
goes to ``on_progress`` as a :class:`SweepProgress` after every outcome and about once a
second; nothing here prints.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from synthcmp.sweep.cell import RUNS, error_row, run_dir_of
from synthcmp.sweep.db import DB_FILE, Database
from synthcmp.sweep.spec import Cell, SweepSpec, varying
from taskcore.errors import TaskError
from taskcore.files import LOCK_FILE, describe_os_error, is_marked, owned_folder

MARKER = ".synthcmp-sweep"
WORKER_LOG = "workers.log"  # what local workers print (warnings), kept out of the display
ATTEMPTS = 2  # a failing cell is retried once
TICK = 1.0  # seconds between progress updates while nothing finishes


@dataclass
class SweepProgress:
    """Where a sweep stands, for a display: counts, timing and the last outcome."""

    total: int  # cells in the spec
    recorded: int  # already in the database when this sweep started
    to_run: int  # cells this sweep runs
    done: int = 0  # finished this sweep, ok
    failed: int = 0  # recorded with an error this sweep
    running: int = 0
    retries: int = 0  # failed attempts that were run again
    elapsed: float = 0.0
    last: dict | None = None  # the row of the last cell recorded
    label: str = ""  # the last cell's name, for a display
    event: str = "tick"  # "start" | "ok" | "error" | "retry" | "tick"
    message: str = ""  # the error of a failed attempt

    @property
    def finished(self) -> int:
        return self.done + self.failed

    @property
    def eta(self) -> float | None:
        """Seconds left at this sweep's pace so far (None before the first cell finishes)."""
        if self.finished == 0:
            return None
        return self.elapsed / self.finished * (self.to_run - self.finished)


@dataclass
class SweepResult:
    """What a sweep did (the JSON of ``synthcmp sweep run --json``)."""

    dir: str
    database: str
    executor: str
    total: int
    recorded: int
    ran: int
    ok: int
    failed: int
    retries: int
    seconds: float
    cells_per_minute: float | None
    failures: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        from taskcore.serial import to_jsonable

        return to_jsonable(self)


def check_sweep_dir(folder: Path) -> None:
    """Before anything is made: may a sweep use ``folder``? It must be new, empty, or a
    sweep folder (one holding the marker); anything else is refused, nothing touched."""
    if not os.path.lexists(folder):
        return
    if folder.is_symlink() and not folder.is_dir():
        raise TaskError(f"--out {folder} is a broken symbolic link")
    if not folder.is_dir():
        raise TaskError(f"--out {folder} exists and is not a folder")
    try:
        contents = [n for n in os.listdir(folder) if n not in (LOCK_FILE, MARKER)]
    except OSError as err:
        raise TaskError(describe_os_error(err, folder, "reading")) from None
    if contents and not is_marked(folder, MARKER):
        raise TaskError(
            f"--out {folder} is not empty and is not a synthcmp sweep folder (no {MARKER} "
            "in it); give a new folder"
        )
    for name in (RUNS, DB_FILE):  # written into: a link planted there would be written through
        if (folder / name).is_symlink():
            raise TaskError(f"{folder / name} is a symbolic link; a sweep writes only into "
                            "files and folders of its own (remove the link)")  # fmt: skip


def is_running(folder: Path) -> bool:
    """Does a sweep hold ``folder``'s lock right now? (Asked without taking it for long, and
    without making a lock file where there is none.)"""
    import fcntl

    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing releases a shared lock we got
    return False


def _holds_work(folder: Path) -> bool:
    """Whether a sweep that failed in a folder it made has anything to keep: a recorded cell
    or a cell's run folder. Without (Ray could not connect, say) the folder is taken back."""
    runs = folder / RUNS
    if runs.is_dir() and any(runs.iterdir()):
        return True
    try:
        with Database(folder / DB_FILE, readonly=True) as db:
            return bool(db.statuses())
    except TaskError:
        return True  # unsure: keep


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    executor,
    on_progress: Callable[[SweepProgress], None] | None = None,
    device: str = "cpu",
    retry_failed: bool = False,
    cells: list[Cell] | None = None,
    batch_seeds: bool = False,
) -> SweepResult:
    """Run ``spec``'s missing cells into ``out`` on ``executor`` (entered here); with
    ``batch_seeds``, cells that differ only in their seed train as one batched model."""
    out = Path(out)
    cells = spec.cells() if cells is None else cells
    check_sweep_dir(out)
    if os.path.lexists(out / DB_FILE):  # a damaged or foreign database: refuse, touch nothing
        Database(out / DB_FILE, readonly=True).close()
    existed = out.is_dir() and any(out.iterdir())
    with owned_folder(out, MARKER, "synthcmp sweep folder, format 1\n", reuse=True,
                      keep=lambda folder: existed or _holds_work(folder),
                      what="sweep folder") as folder:  # fmt: skip
        with Database(folder / DB_FILE) as db:
            recorded = db.statuses()
            keep = ("ok",) if retry_failed else ("ok", "error")
            todo = [c for c in cells if recorded.get(c.key) not in keep]
            db.record_sweep(spec.name, spec.to_json(), len(cells))
            progress = SweepProgress(total=len(cells), recorded=len(cells) - len(todo),
                                     to_run=len(todo), event="start")  # fmt: skip
            notify = on_progress or (lambda p: None)
            t0 = time.perf_counter()
            notify(progress)
            if todo:
                executor.slots = min(executor.slots, len(todo))  # one worker per cell at most
                if hasattr(executor, "log_file"):
                    executor.log_file = str(folder / WORKER_LOG)
                with executor:
                    _drive(folder, todo, executor, db, progress, notify, t0, spec, device,
                           bases(cells), recorded, batch_seeds)  # fmt: skip
                log = folder / WORKER_LOG
                if log.is_file() and log.stat().st_size == 0:
                    log.unlink()
            seconds = time.perf_counter() - t0
            ran_now = {c.key for c in todo}
            failures = [{"cell": r["cell"], "error": r["error"]} for r in db.rows()
                        if r["status"] == "error" and r["cell"] in ran_now]  # fmt: skip
    ran = progress.finished
    return SweepResult(
        dir=str(folder), database=str(folder / DB_FILE),
        executor=getattr(executor, "description", type(executor).__name__), total=len(cells),
        recorded=progress.recorded, ran=ran, ok=progress.done, failed=progress.failed,
        retries=progress.retries, seconds=seconds,
        cells_per_minute=60 * ran / seconds if ran and seconds > 0 else None, failures=failures,
    )  # fmt: skip


def bases(cells: list[Cell]) -> dict[str, Cell]:
    """Each training cell's *base*: the same cell with the next smaller step budget in the
    sweep, which it continues instead of training from scratch (:func:`cell.continue_run`)."""
    family: dict[str, list[Cell]] = {}
    for c in cells:
        if "train" in c.stages:
            family.setdefault(replace(c, steps=0).key, []).append(c)
    out = {}
    for group in family.values():
        group.sort(key=lambda c: c.steps)
        out.update({bigger.key: smaller for smaller, bigger in itertools.pairwise(group)})
    return out


def seed_groups(cells: list[Cell], base_of: dict[str, Cell]) -> list[list[Cell]]:
    """The cells that can train as one batched model: full runs that differ only in their
    seed, start from scratch (no base to continue) and share their task's table (a lookup
    table is drawn per seed: those run alone). Groups of one are left out."""
    from taskcore import build_task

    groups: dict[str, list[Cell]] = {}
    for c in cells:
        if set(c.stages) == {"synth", "train", "compare"} and c.key not in base_of:
            groups.setdefault(replace(c, seed=0).key, []).append(c)
    out = []
    for group in groups.values():
        tables: dict[bytes, list[Cell]] = {}
        for c in group:
            task = build_task(c.task_spec())
            tables.setdefault(task.table.tobytes() + task.domain.tobytes(), []).append(c)
        out += [same for same in tables.values() if len(same) > 1]
    return out


def _drive(folder, todo, executor, db, progress, notify, t0, spec, device, base_of,
           recorded, batch_seeds: bool = False) -> None:  # fmt: skip
    """Run the ``todo`` cells; a cell whose base (the next smaller budget) is also to run waits
    for it, then continues its run — a long budget is paid only where it is needed. With
    ``batch_seeds``, cells that differ only in their seed run as one job: one batched model."""
    by_key = {c.key: c for c in todo}
    vary = varying(todo)
    common = {"sweep_dir": str(folder.resolve()), "device": device, "plots": spec.plots,
              "attempt": 1}  # fmt: skip
    jobs = {c.key: {"cell": c.to_json(), "key": c.key, "keys": [c.key], "top": c.top, **common}
            for c in todo}  # fmt: skip
    for group in seed_groups(todo, base_of) if batch_seeds else []:
        keys = [c.key for c in group]
        batch = {"cells": [c.to_json() for c in group], "key": keys[0], "keys": keys,
                 "top": group[0].top, **common}  # fmt: skip
        for key in keys:
            jobs[key] = batch
    held: dict[str, list[dict]] = {}  # a base's key → the jobs waiting for it

    def release(job: dict) -> dict:
        base = base_of.get(job["key"])
        if base is not None and (recorded.get(base.key) == "ok" or base.key in done_ok):
            job["continue_from"] = str(run_dir_of(folder, base))
        return job

    done_ok: set[str] = set()
    pending: deque = deque()
    for key, job in jobs.items():
        base = base_of.get(key)
        if base is not None and base.key in jobs:
            held.setdefault(base.key, []).append(job)
        elif job["key"] == key:  # a batch is queued once, under its first cell
            pending.append(release(job))
    last_tick = 0.0
    while pending or executor.running():
        while pending and executor.running() < executor.slots:
            executor.submit(pending.popleft())
        outcomes = executor.wait(timeout=TICK)
        progress.elapsed = time.perf_counter() - t0
        for outcome in outcomes:
            job = outcome.job
            cell = by_key[job["key"]]
            seeds = f" ({len(job['keys'])} seeds as one batch)" if len(job["keys"]) > 1 else ""
            progress.label, progress.message = cell.label(vary) + seeds, outcome.error or ""
            if outcome.detail:  # the traceback, which the database's one line leaves out
                with open(folder / WORKER_LOG, "a") as log:
                    log.write(f"--- {cell.key}{seeds} (try {job['attempt']}):\n{outcome.detail}\n")
            if outcome.row is not None and "trained" in outcome.row:  # a batch of seeds trained:
                for key in outcome.row["trained"]:  # each cell is finished as its own job
                    pending.appendleft({k: v for k, v in job.items() if k != "cells"} | {
                        "cell": by_key[key].to_json(), "key": key, "keys": [key], "attempt": 1,
                        "trained_seconds": outcome.row["seconds"]})  # fmt: skip
                progress.event = "trained"
            elif outcome.row is not None:
                db.put(outcome.row)
                progress.done += 1
                done_ok.add(job["key"])
                progress.last, progress.event = outcome.row, "ok"
            elif job["attempt"] < ATTEMPTS:
                pending.appendleft({**job, "attempt": job["attempt"] + 1})
                progress.retries += 1
                progress.event = "retry"
            else:
                for key in job["keys"]:
                    row = error_row(by_key[key], outcome.error or "unknown error", job["attempt"])
                    db.put(row)
                    progress.failed += 1
                progress.last, progress.event = row, "error"
            settled = outcome.row is not None and "trained" not in outcome.row
            if settled or (outcome.row is None and job["attempt"] >= ATTEMPTS):  # recorded
                for key in job["keys"]:
                    pending.extendleft(release(j) for j in held.pop(key, []))
            progress.running = executor.running()
            notify(progress)
        if not outcomes or time.perf_counter() - last_tick >= TICK:
            last_tick = time.perf_counter()
            progress.running, progress.event = executor.running(), "tick"
            notify(progress)
