"""Where a sweep's cells run: a local pool of worker processes, or Ray tasks, one interface.

The driver (:func:`synthcmp.sweep.driver.run_sweep`) sees an executor as a number of
``slots`` (cells it may run at once), :meth:`submit` (start a job) and :meth:`wait` (the
outcomes that have arrived, each a row or an error). Every outcome comes back to the driver,
which alone writes the database; a worker never touches it.

* :class:`LocalPool` — ``workers`` processes (started with ``spawn``: no state shared with
  the driver), each running one cell at a time on one thread (one run per core). Each worker
  has its own pipe, so the driver knows which cell a worker was running when it died (a
  segfault, the OOM killer): that cell gets an error outcome and a fresh worker takes the
  dead one's place. Workers leave the terminal's process group, so Ctrl-C reaches only the
  driver, which then stops them; a worker whose driver died exits on its own.
* :class:`RayExecutor` — each cell a Ray task with ``num_cpus=1`` (and a GPU share with
  ``--device cuda``; a batch of seeds takes a whole GPU), results streamed back as they finish (``ray.wait``). Ray's own
  retries are off (``max_retries=0``) so the driver's retry-once rule is the only one.
  ``address="local"`` starts a private Ray instance on this machine (``ray.init(num_cpus=N)``,
  what the tests and the benchmark use); ``"auto"`` or ``ray://host:port`` joins a cluster
  (``ray start --head`` first). Ray is imported only here, only when asked for.

A job is a plain dict (JSON-ready); the function that runs it is named as ``"module:function"``
(by default :func:`synthcmp.sweep.cell.run_cell`), so tests can run the real driver, pool and
Ray path with a function of their own.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass

from taskcore.errors import TaskError
from taskcore.processes import ONE_THREAD, one_thread_environment

CELL_FUNCTION = "synthcmp.sweep.cell:run_cell"
GPU_SHARE = 0.25  # of a GPU per Ray task with --device cuda: four cells share one GPU


@dataclass
class Outcome:
    """What came back for one job: the cell's row, or an error (one line) and its traceback."""

    job: dict
    row: dict | None = None
    error: str | None = None
    detail: str = ""


def call(function: str, job: dict) -> tuple:
    """Run ``function`` (``"module:name"``) on ``job``: ``("ok", row)`` or ``("error", line, tb)``."""
    try:
        module, name = function.split(":")
        return ("ok", getattr(importlib.import_module(module), name)(job))
    except BaseException as err:  # noqa: BLE001 — every failure is an outcome, not a crash
        line = f"{type(err).__name__}: {err}".strip().splitlines()
        return ("error", line[0] if line else type(err).__name__, traceback.format_exc()[-4000:])


def _outcome(job: dict, message: tuple) -> Outcome:
    if message[0] == "ok":
        return Outcome(job, row=message[1])
    return Outcome(job, error=message[1], detail=message[2] if len(message) > 2 else "")


# ---------------------------------------------------------------------------------------
# The local pool


def _exit_with_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(0.5)


def _worker(conn, function: str, parent: int, log: str | None) -> None:
    """A worker process: run jobs from ``conn`` one at a time until told to stop. What it
    prints (library warnings) goes to the ``log`` file, not over the driver's display."""
    try:
        os.setpgrp()  # out of the terminal's process group: Ctrl-C goes to the driver alone
    except OSError:
        pass
    if log is not None:
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.close(fd)
        except OSError:
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    try:  # load the heavy imports now, not inside the first cell (a failure shows there)
        getattr(importlib.import_module(function.split(":")[0]), "warm_up", lambda: None)()
    except Exception:  # noqa: BLE001
        pass
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            conn.send(call(function, job))
        except (BrokenPipeError, OSError):
            return


@dataclass
class _Slot:
    process: object
    conn: object
    job: dict | None = None


class LocalPool:
    """``workers`` single-threaded worker processes on this machine."""

    def __init__(self, workers: int, function: str = CELL_FUNCTION):
        if workers < 1:
            raise TaskError(f"--workers must be at least 1, got {workers}")
        self.slots = workers
        self.function = function
        self.description = f"local pool, {workers} worker{'s' * (workers != 1)}"
        self.log_file: str | None = None  # where workers' own output goes (the driver sets it)
        self._pool: list[_Slot] = []

    def __enter__(self) -> LocalPool:
        import multiprocessing

        self._ctx = multiprocessing.get_context("spawn")
        self.description = f"local pool, {self.slots} worker{'s' * (self.slots != 1)}"
        for _ in range(self.slots):
            self._pool.append(self._start())
        return self

    def _start(self) -> _Slot:
        ours, theirs = self._ctx.Pipe()
        process = self._ctx.Process(target=_worker, args=(theirs, self.function, os.getpid(), self.log_file),
                                    daemon=True, name="synthcmp-sweep-worker")  # fmt: skip
        with one_thread_environment():  # the worker inherits it before numpy or torch loads
            process.start()
        theirs.close()
        return _Slot(process, ours)

    def running(self) -> int:
        return sum(s.job is not None for s in self._pool)

    def submit(self, job: dict) -> None:
        slot = next((s for s in self._pool if s.job is None), None)
        if slot is None:
            raise RuntimeError("no free worker")
        slot.job = job
        try:
            slot.conn.send(job)
        except (BrokenPipeError, OSError):
            pass  # it died idle: wait() sees its sentinel and reports the job

    def wait(self, timeout: float) -> list[Outcome]:
        from multiprocessing.connection import wait

        busy = [s for s in self._pool if s.job is not None]
        if not busy:
            time.sleep(timeout)
            return []
        wait([s.conn for s in busy] + [s.process.sentinel for s in busy], timeout)
        outcomes = []
        for slot in busy:
            message = None
            try:
                if slot.conn.poll():
                    message = slot.conn.recv()
            except (EOFError, OSError):
                message = None
            if message is not None:
                outcomes.append(_outcome(slot.job, message))
                slot.job = None
            elif not slot.process.is_alive():
                slot.process.join()
                code = slot.process.exitcode
                how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                outcomes.append(Outcome(slot.job, error=f"the worker process died ({how})"))
                slot.conn.close()
                self._pool[self._pool.index(slot)] = self._start()
        return outcomes

    def __exit__(self, *exc) -> None:
        interrupted = exc[0] is not None
        for slot in self._pool:
            try:
                if interrupted:
                    slot.process.terminate()
                else:
                    slot.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        for slot in self._pool:
            slot.process.join(timeout=5)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()
            slot.conn.close()
        self._pool = []


# ---------------------------------------------------------------------------------------
# Ray


def _ray_cell(job: dict, function: str) -> tuple:
    """The body of every Ray task: the same call as a local worker's."""
    return call(function, job)


def _first_line(err: BaseException) -> str:
    lines = [line for line in str(err).splitlines() if line.strip()]
    return f"{type(err).__name__}: {lines[0] if lines else ''}".strip()


class RayExecutor:
    """Cells as Ray tasks. ``address``: "local" (a private instance of ``workers`` CPUs),
    "auto" (the cluster this machine belongs to) or a ``ray://`` address."""

    def __init__(self, address: str, workers: int | None = None, device: str = "cpu",
                 function: str = CELL_FUNCTION):  # fmt: skip
        if workers is not None and workers < 1:
            raise TaskError(f"--workers must be at least 1, got {workers}")
        self.address, self.workers, self.device, self.function = address, workers, device, function
        self.slots = workers or 1
        self.description = f"Ray ({address})"
        self._refs: dict = {}

    def __enter__(self) -> RayExecutor:
        import logging

        try:
            import ray
        except ModuleNotFoundError:
            raise TaskError('--ray needs Ray: pip install "synthcmp[ray]"') from None
        self.ray = ray
        options = dict(include_dashboard=False, logging_level=logging.ERROR,
                       log_to_driver=False, ignore_reinit_error=True)  # fmt: skip
        try:
            if self.address == "local":
                ray.init(num_cpus=self.workers or os.cpu_count() or 1, **options)
            else:
                ray.init(address=self.address, **options)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise TaskError(
                f"--ray {self.address}: cannot connect ({_first_line(err)}); start a cluster "
                "with 'ray start --head' or use --ray local"
            ) from None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.slots = self.workers or max(cpus, 1)
        self.description = f"Ray ({self.address}, {cpus} CPUs)"
        gpus = GPU_SHARE if self.device.startswith("cuda") else 0
        env = dict(ONE_THREAD)
        if self.address == "local":  # this machine: the workers import what the driver can
            env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
        self.remote = ray.remote(_ray_cell).options(
            num_cpus=1, num_gpus=gpus, max_retries=0, runtime_env={"env_vars": env}
        )
        return self

    def running(self) -> int:
        return len(self._refs)

    def submit(self, job: dict) -> None:
        remote = self.remote
        if "cells" in job and self.device.startswith("cuda"):  # a batch of seeds: a whole GPU
            remote = remote.options(num_gpus=1)
        self._refs[remote.remote(job, self.function)] = job

    def wait(self, timeout: float) -> list[Outcome]:
        if not self._refs:
            time.sleep(timeout)
            return []
        ray = self.ray
        ready, rest = ray.wait(list(self._refs), num_returns=1, timeout=timeout)
        if ready and rest:
            more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
            ready += more
        outcomes = []
        for ref in ready:
            job = self._refs.pop(ref)
            try:
                outcomes.append(_outcome(job, ray.get(ref)))
            except ray.exceptions.RayError as err:  # the worker died, or the task was lost
                outcomes.append(Outcome(job, error=_first_line(err), detail=str(err)[-4000:]))
        return outcomes

    def __exit__(self, *exc) -> None:
        ray = self.ray
        try:
            if exc[0] is not None:
                for ref in list(self._refs):
                    try:
                        ray.cancel(ref, force=True)
                    except Exception:  # noqa: BLE001 — already finished or gone
                        pass
        finally:
            self._refs = {}
            ray.shutdown()
