"""Worker processes with one BLAS/OpenMP thread each (plain standard library: the pool that
starts the workers need not load torch itself).

On a busy 2-core machine a thread pool in every process is several times slower than one
thread each, and a BLAS reads its thread count once, when the process starts: so the
variables are put in the environment around the start of the processes and restored after.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor

ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                     "OPENBLAS_NUM_THREADS")}  # fmt: skip


@contextlib.contextmanager
def process_pool(workers: int, initializer=None, initargs=()):
    """A pool of ``workers`` spawned processes (fresh interpreters: no forked thread pools),
    each with one BLAS/OpenMP thread — on a busy 2-core machine a thread pool in every
    process is several times slower than one thread each. The variables must be in the
    environment when a process starts (its BLAS reads them once), so they are set around
    the pool's life and restored after."""
    with one_thread_environment(), ProcessPoolExecutor(
        workers, mp_context=mp.get_context("spawn"), initializer=initializer, initargs=initargs
    ) as pool:
        yield pool


@contextlib.contextmanager
def one_thread_environment():
    """:data:`ONE_THREAD` in ``os.environ`` while the block runs (processes started in it
    inherit one BLAS/OpenMP thread), the previous values restored after."""
    saved = {k: os.environ.get(k) for k in ONE_THREAD}
    os.environ.update(ONE_THREAD)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
