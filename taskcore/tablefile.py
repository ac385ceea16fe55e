"""Custom tasks from a CSV file: ``x,y,out`` rows under that header, or an n×n matrix.

Symbols are 0..n−1. For rows (the header line ``x,y,out`` says which form it is, since a
3×3 matrix would otherwise read as three rows), n = 1 + the largest x or y and every
(x, y) must appear exactly once. For a matrix, row x column y holds f(x, y). Outputs
must lie in 0..n−1.

The file is hostile until proven otherwise: it must be a regular file of at most
:data:`MAX_TABLE_BYTES` in UTF-8 (a byte-order mark is allowed); every number is checked
against the symbol range *before* any array is allocated, so a coordinate of 10¹⁵ is an
error message, not a request for petabytes.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from taskcore.errors import TaskError
from taskcore.files import read_text_capped
from taskcore.table import P_MAX, Task

MAX_TABLE_N = P_MAX
MAX_TABLE_BYTES = 32 * 2**20  # a full 1024×1024 table as rows is about 16 MB
MAX_ROWS = MAX_TABLE_N**2 + 1  # every cell as an x,y,out row, and the header


def _cells(rows: list[list[str]], name: str) -> list[list[int]]:
    out = []
    for r, row in enumerate(rows):
        values = []
        for c, cell in enumerate(row):
            if cell == "":
                raise TaskError(f"table {name} has missing cells (row {r + 1}, column {c + 1})")
            try:
                value = int(cell)
            except ValueError:
                raise TaskError(
                    f"table {name}: non-integer cell {cell[:20]!r} (row {r + 1})"
                ) from None
            if abs(value) > 10**9:  # checked before numpy (int64) sees it
                raise TaskError(f"table {name}: value {cell[:20]} (row {r + 1}) is out of range")
            values.append(value)
        out.append(values)
    return out


def table_task(path: str | Path) -> Task:
    """A task from a CSV file (see the module docstring), or a TaskError saying what is wrong."""
    path = Path(path)
    name = path.name
    text = read_text_capped(path, MAX_TABLE_BYTES, "table")
    if "\x00" in text:
        raise TaskError(f"table {name} is not a text file (it contains NUL bytes)")
    rows = []
    try:  # row by row, so a file of a million repeated rows stops at the limit, not in swap
        for row in csv.reader(io.StringIO(text)):
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            if len(cells) > MAX_TABLE_N:
                raise TaskError(
                    f"table {name}: a row has {len(cells)} cells, more than n ≤ {MAX_TABLE_N}"
                )
            if len(rows) >= MAX_ROWS:
                raise TaskError(
                    f"table {name} has more than {MAX_ROWS:,} rows, more than n ≤ {MAX_TABLE_N}"
                )
            rows.append(cells)
    except csv.Error as err:
        raise TaskError(f"table {name} is not valid CSV ({err})") from None
    if not rows:
        raise TaskError(f"table {name} is empty")
    as_rows = [c.lower() for c in rows[0]] == ["x", "y", "out"]
    if as_rows:
        rows = rows[1:]
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        raise TaskError(f"table {name}: rows have different lengths {sorted(widths)[:5]}")
    cells = _cells(rows, name)
    if not cells:
        raise TaskError(f"table {name} is empty")
    ncol = widths.pop()
    data = np.asarray(cells, dtype=np.int64)
    if as_rows:
        if ncol != 3:
            raise TaskError(f"table {name}: rows after the x,y,out header need 3 cells")
        if (data[:, :2] < 0).any():
            raise TaskError(f"table {name}: x and y must be non-negative")
        n = int(data[:, :2].max()) + 1
        if n > MAX_TABLE_N:
            raise TaskError(f"table {name}: n = {n} is out of the supported range 2..{MAX_TABLE_N}")
        table = np.full((n, n), -1, np.int64)
        seen = np.zeros((n, n), np.int64)
        np.add.at(seen, (data[:, 0], data[:, 1]), 1)
        if (seen > 1).any():
            x, y = np.argwhere(seen > 1)[0]
            raise TaskError(f"table {name}: cell ({x}, {y}) is given more than once")
        if (seen == 0).any():
            x, y = np.argwhere(seen == 0)[0]
            raise TaskError(
                f"table {name} has missing cells: {int((seen == 0).sum())} of {n * n}, "
                f"first ({x}, {y})"
            )
        table[data[:, 0], data[:, 1]] = data[:, 2]
    elif len(data) == ncol:
        n, table = ncol, data
    else:
        raise TaskError(
            f"table {name} has shape {len(data)}×{ncol}: expected x,y,out rows or an n×n matrix"
        )
    if not 2 <= n <= MAX_TABLE_N:
        raise TaskError(f"table {name}: n = {n} is out of the supported range 2..{MAX_TABLE_N}")
    bad = (table < 0) | (table >= n)
    if bad.any():
        x, y = np.argwhere(bad)[0]
        raise TaskError(
            f"table {name}: output {table[x, y]} at ({x}, {y}) is out of range 0..{n - 1}"
        )
    return Task(path.stem, f"table from {name}", "table", n, table, np.ones((n, n), bool))
