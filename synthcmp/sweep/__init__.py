"""Sweeps: grids of runs, one row each in an embedded database, and what the grid shows.

A researcher's questions are grids: "at which training fraction does each operation
generalize, for the network and for the program search, and which program does each
learn?" (Power et al. 2022, Fig. 1), or "where does grokking happen over data × weight
decay?" (Liu et al. 2022, Omnigrok). A sweep is such a grid, written as a TOML spec:

* :mod:`synthcmp.sweep.spec` — the spec: lists to cross (``tasks``, ``p``, ``frac``,
  ``seed``, ``model``, ``weight_decay``, ``lr``, ``steps``) and the ``stages`` each cell
  runs; its product is a list of :class:`~synthcmp.sweep.spec.Cell`, each with a stable key;
* :mod:`synthcmp.sweep.cell` — one cell: a full run in its own run folder (the pipeline of
  ``synthcmp run``), whose report becomes one database row;
* :mod:`synthcmp.sweep.db` — the results database: SQLite (standard library), one table of
  runs with typed columns, one row per cell, written only by the driver, row by row;
* :mod:`synthcmp.sweep.executors` — where cells run: a local pool of single-threaded worker
  processes (the default), or Ray tasks (``pip install "synthcmp[ray]"``), one interface;
* :mod:`synthcmp.sweep.driver` — :func:`run_sweep`: lock the sweep folder, run the missing
  cells, retry a crashed cell once, record every outcome as it arrives;
* :mod:`synthcmp.sweep.report` — what the rows show: Power et al.'s figure for both
  learners, phase diagrams, and the matched program and ladder of each cell.

Like the engines, nothing here prints: the driver takes a progress callback and the report
returns plain data; ``synthcmp/commands/sweep.py`` and ``synthcmp/render/sweep.py`` show them.
"""

from synthcmp.sweep.spec import Cell, SweepSpec, load_spec, parse_spec

__all__ = ["Cell", "SweepSpec", "load_spec", "parse_spec"]
