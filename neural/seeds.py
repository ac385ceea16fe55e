"""Many seeds of one configuration: where and how to train them.

Universality questions need many runs that differ only in their seed. :func:`train_seeds`
trains them and stores each as an ordinary run folder, in whichever way is fastest on the
device:

**Where batching pays** is measured by ``benchmarks/batched.py``, not assumed: a tiny model
leaves a GPU launch-bound at one seed, so stacking N seeds into one step should multiply the
throughput there (run the benchmark with ``--device cuda`` to see by how much); on a CPU the
matmuls are compute-bound and the benchmark finds a batched step no cheaper than N single
ones. :func:`train_seeds` therefore trains the seeds as one batch on a GPU and one run at a
time on the CPU (``batched=None``); either way each seed's numbers are those of
:func:`neural.train.train` with its config, to float tolerance (a test checks it).

On the CPU it trains them one run at a time, ``workers`` of them at once in processes of
their own (one per core; each run uses one thread, so its numbers do not depend on where it
ran).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from neural import store
from neural.config import TrainConfig
from neural.train import (
    Run,
    SeedStep,
    StepInfo,
    TrainingDiverged,
    check_same_configuration,
    train,
    train_batched,
)
from taskcore.processes import process_pool
from taskcore.table import Task

__all__ = ["SeedStep", "batched_default", "train_seeds"]


def batched_default(device: str) -> bool:
    """Batch the seeds on this device? Yes on a GPU (launch-bound: batching multiplies the
    throughput), no on the CPU (compute-bound: a batched step costs N single steps or more).
    See the module docstring and ``benchmarks/batched.py``."""
    return torch.device(device).type != "cpu"


def train_seeds(
    task: Task,
    configs: list[TrainConfig],
    run_dirs: list[str | Path] | None = None,
    on_step: Callable[[SeedStep], None] | None = None,
    batched: bool | None = None,
    force: bool = False,
    workers: int = 1,
) -> list[Run]:
    """Train one run per config (configs that differ only in their seed) and return them in
    order. ``run_dirs`` (one per config) stores each as an ordinary run folder.

    ``batched``: one batched model (True), one run at a time (False), or per device (None:
    see :func:`batched_default`). Run at a time, ``workers`` > 1 trains that many runs at once
    in processes of their own (one per CPU core: each run uses one thread, and its numbers
    do not depend on where it ran); that needs ``run_dirs``, from which the runs are read back.
    A seed whose loss diverges is recorded with status "diverged" and the others go on, batched
    or not (:mod:`neural.loop`).
    """
    check_same_configuration(configs)
    if run_dirs is not None and len(run_dirs) != len(configs):
        raise store.RunError("one run folder per seed")
    if batched is None:
        batched = batched_default(configs[0].device)
    if batched:
        return train_batched(task, configs, run_dirs, on_step, force)
    if workers > 1 and run_dirs is not None and len(configs) > 1:
        return _train_in_processes(task, configs, [Path(d) for d in run_dirs], on_step, force,
                                   min(workers, len(configs)))  # fmt: skip
    runs = []
    for i, config in enumerate(configs):
        def forward(info: StepInfo, i: int = i) -> None:
            if on_step is not None:
                on_step(SeedStep(i, info))

        run_dir = run_dirs[i] if run_dirs is not None else None
        try:
            runs.append(train(task, config, on_step=forward, run_dir=run_dir, force=force))
        except TrainingDiverged as err:  # recorded, as the loop records it for many seeds
            runs.append(err.run)
    return runs


_QUEUE = None  # in a worker process: where its training events go


def _worker_init(queue) -> None:
    global _QUEUE
    _QUEUE = queue


def _train_one(task: Task, config: TrainConfig, run_dir: Path, index: int, force: bool) -> str:
    """In a worker: train one run into its folder, sending each logged step to the parent."""

    def on_step(info: StepInfo) -> None:
        _QUEUE.put(SeedStep(index, info))

    try:
        status = train(task, config, on_step=on_step, run_dir=run_dir, force=force).status
    except TrainingDiverged:  # recorded in its folder, read back with the others
        status = "diverged"
    _QUEUE.put(index)  # after its last event: this run is done
    return status


def _read_back(task: Task, run_dir: Path) -> Run:
    """A run that a worker trained, as :func:`train` would have returned it."""
    loaded = store.load_run(run_dir)
    s = loaded.summary
    return Run(run_dir, loaded.config, task, int(s["steps"]), float(s["seconds"]),
               s["memorization_step"], s["grok_step"], s["status"], s["final"], loaded.metrics,
               loaded.load_model(), int(s["n_train"]), int(s["n_test"]))  # fmt: skip


def _train_in_processes(task, configs, run_dirs, on_step, force, workers) -> list[Run]:
    """One process per worker, each training whole runs; their events come back through a
    queue and reach ``on_step`` here."""
    import multiprocessing as mp
    import queue as queues

    events = mp.get_context("spawn").Queue()
    with process_pool(workers, _worker_init, (events,)) as pool:
        futures = [pool.submit(_train_one, task, c, d, i, force)
                   for i, (c, d) in enumerate(zip(configs, run_dirs, strict=True))]  # fmt: skip
        finished: set[int] = set()
        try:
            while len(finished) < len(futures):
                failed = [f for f in futures if f.done() and f.exception() is not None]
                if failed:  # a worker's exception (interrupted, a folder in use), as train's
                    raise failed[0].exception() from None
                try:
                    item = events.get(timeout=0.2)
                except queues.Empty:
                    continue
                if isinstance(item, int):
                    finished.add(item)
                elif on_step is not None:
                    on_step(item)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return [_read_back(task, d) for d in run_dirs]
