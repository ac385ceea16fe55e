"""The results database: one SQLite file, one table of runs, one typed row per cell.

SQLite ships with Python, is one file, and is safe against a kill: each finished cell is
written and committed in its own transaction, so Ctrl-C, a killed worker or a killed driver
loses no finished cell, and a reader never sees half a row. Only the sweep's driver writes
(one process, holding the sweep folder's lock); ``synthcmp sweep report`` opens the file
read-only, so it can read a sweep while it runs.

The table ``runs`` is ``STRICT``: each column holds exactly its declared type. Its columns,
named as the rest of synthcmp names them:

* the configuration — ``cell`` (the key, :attr:`~synthcmp.sweep.spec.Cell.key`), ``task``,
  ``p``, ``n``, ``frac``, ``seed``, ``model``, ``weight_decay``, ``lr``, ``steps`` (the
  budget), ``stages``;
* the outcome — ``status`` ("ok" or "error"), ``error``, ``attempts``;
* training — ``memorized``, ``memorization_step``, ``grokked``, ``grok_step`` (the events of
  :mod:`taskcore.events`), ``steps_trained``, ``train_acc``, ``test_acc``,
  ``test_acc_rising`` (not grokked, and still climbing when the budget ran out);
  what the grok cost: ``grok_seconds``, ``flops_per_step`` (:mod:`neural.flops`),
  ``flops_to_grok`` (NULL where it did not grok: it cost more than ``flops_per_step`` ×
  ``steps_trained``), and ``train_seconds``, all the training took (a continued run's
  included);
* the synthesizer's best program (``programs[0]``) — ``synth_program``, ``synth_kind``
  ("program" or "table"), ``synth_bits`` (two-part), ``synth_program_bits`` (L(P)),
  ``synth_exceptions``, ``synth_test_acc``, ``synth_exact_test`` (right on every test pair);
  what finding it cost: ``synth_programs_to_best`` (candidates built until it was found),
  ``synth_seconds_to_best``, and what the whole search did: ``synth_programs`` built,
  ``synth_search_seconds``, ``synth_bits_searched`` (how far it went);
* the match — ``match_program``, ``match_grade``, ``verdict``, ``behaviour``;
  the circuit — ``key_frequencies`` (JSON), ``faithfulness``;
* the ladder — ``bits_shortest_program``, ``bits_extracted_circuit``,
  ``bits_memorized_table``, ``bits_raw_parameters`` (NULL where a rung has no bits);
* with a spec's ``llc = true``: ``llc``, the local learning coefficient λ̂ at the final
  checkpoint (NULL where it is not trusted), and ``llc_trusted``;
* ``seconds_synth``, ``seconds_train``, ``seconds_compare``, ``seconds`` (the cell's wall
  time in its worker), ``report`` (report.json's path, relative to the sweep folder),
  ``host``, ``finished`` (UTC, ISO 8601).

Notebooks read it directly (``pandas.read_sql("select * from runs", sqlite3.connect(...))``)
or from an export (:func:`export`: CSV, or Parquet where pyarrow is installed).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import time
import urllib.parse
from pathlib import Path

from taskcore.errors import TaskError
from taskcore.files import atomic_write, atomic_write_text, regular_file

DB_FILE = "results.db"
SCHEMA_VERSION = 3
# what turns a database of each older schema into the next one: columns added, nothing removed
MIGRATIONS = {
    1: ("ALTER TABLE runs ADD COLUMN llc REAL", "ALTER TABLE runs ADD COLUMN llc_trusted INTEGER"),
    2: tuple(f"ALTER TABLE runs ADD COLUMN {name} {kind}" for name, kind in (
        ("test_acc_rising", "INTEGER"), ("train_seconds", "REAL"), ("grok_seconds", "REAL"),
        ("flops_per_step", "REAL"), ("flops_to_grok", "REAL"),
        ("synth_programs_to_best", "INTEGER"), ("synth_seconds_to_best", "REAL"),
        ("synth_programs", "INTEGER"), ("synth_search_seconds", "REAL"),
        ("synth_bits_searched", "REAL"))),
}  # fmt: skip
APPLICATION_ID = 0x53594E43  # "SYNC": marks the file as a synthcmp sweep database

COLUMNS: dict[str, str] = {
    "cell": "TEXT PRIMARY KEY",
    "task": "TEXT NOT NULL",
    "p": "INTEGER",
    "n": "INTEGER",
    "frac": "REAL NOT NULL",
    "seed": "INTEGER NOT NULL",
    "model": "TEXT NOT NULL",
    "weight_decay": "REAL NOT NULL",
    "lr": "REAL NOT NULL",
    "steps": "INTEGER NOT NULL",
    "stages": "TEXT NOT NULL",
    "status": "TEXT NOT NULL",
    "error": "TEXT",
    "attempts": "INTEGER NOT NULL",
    "n_train": "INTEGER",
    "n_test": "INTEGER",
    "memorized": "INTEGER",
    "memorization_step": "INTEGER",
    "grokked": "INTEGER",
    "grok_step": "INTEGER",
    "steps_trained": "INTEGER",
    "train_acc": "REAL",
    "test_acc": "REAL",
    "test_acc_rising": "INTEGER",
    "train_seconds": "REAL",
    "grok_seconds": "REAL",
    "flops_per_step": "REAL",
    "flops_to_grok": "REAL",
    "synth_program": "TEXT",
    "synth_kind": "TEXT",
    "synth_bits": "REAL",
    "synth_program_bits": "REAL",
    "synth_exceptions": "INTEGER",
    "synth_test_acc": "REAL",
    "synth_exact_test": "INTEGER",
    "synth_programs_to_best": "INTEGER",
    "synth_seconds_to_best": "REAL",
    "synth_programs": "INTEGER",
    "synth_search_seconds": "REAL",
    "synth_bits_searched": "REAL",
    "match_program": "TEXT",
    "match_grade": "TEXT",
    "verdict": "TEXT",
    "behaviour": "REAL",
    "key_frequencies": "TEXT",
    "faithfulness": "REAL",
    "bits_shortest_program": "REAL",
    "bits_extracted_circuit": "REAL",
    "bits_memorized_table": "REAL",
    "bits_raw_parameters": "REAL",
    "llc": "REAL",
    "llc_trusted": "INTEGER",
    "seconds_synth": "REAL",
    "seconds_train": "REAL",
    "seconds_compare": "REAL",
    "seconds": "REAL",
    "report": "TEXT",
    "host": "TEXT",
    "finished": "TEXT",
}
BOOLEAN = ("memorized", "grokked", "synth_exact_test", "llc_trusted", "test_acc_rising")
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
  {", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())}
) STRICT;
CREATE TABLE IF NOT EXISTS sweeps (
  started TEXT NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL, cells INTEGER NOT NULL
) STRICT;
"""


def _damaged(path: Path, err: Exception) -> TaskError:
    return TaskError(
        f"{path} is not a readable synthcmp sweep database ({err}); move it away to start "
        "a new one (its run folders stay where they are)"
    )


class Database:
    """The results database at ``path``; a context manager that closes it.

    ``readonly``: open an existing database for reading only (the report). Otherwise the
    file is made if missing and its schema checked: a file that is not SQLite, is damaged,
    or is another program's database is a TaskError, and nothing in it is changed.
    """

    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        if not readonly and self.path.is_symlink():  # SQLite would write through it
            raise TaskError(f"{self.path} is a symbolic link; refusing to write through it")
        if readonly or os.path.lexists(self.path):
            regular_file(self.path, "the sweep database")
        try:
            if readonly:
                uri = "file:" + urllib.parse.quote(str(self.path.resolve())) + "?mode=ro"
                self.conn = sqlite3.connect(uri, uri=True, timeout=30)
            else:
                self.conn = sqlite3.connect(self.path, timeout=30)
            self.conn.row_factory = sqlite3.Row
            self._check_schema()
        except sqlite3.Error as err:
            self.close()
            raise _damaged(self.path, err) from None
        except BaseException:
            self.close()
            raise

    def _check_schema(self) -> None:
        app = self.conn.execute("PRAGMA application_id").fetchone()[0]
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master")}
        if app == 0 and version == 0 and not tables and not self.readonly:  # a new file
            with self.conn:
                self.conn.executescript(SCHEMA)
                self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.columns = list(COLUMNS)
            return
        if app != APPLICATION_ID or "runs" not in tables:
            raise TaskError(f"{self.path} is not a synthcmp sweep database; refusing to use it")
        if version > SCHEMA_VERSION or version not in (SCHEMA_VERSION, *MIGRATIONS):
            raise TaskError(
                f"{self.path} was written by another version of synthcmp (schema {version}; "
                f"this one reads {SCHEMA_VERSION})"
            )
        if version < SCHEMA_VERSION and not self.readonly:  # brought up to date, in one go
            with self.conn:
                for v in range(version, SCHEMA_VERSION):
                    for statement in MIGRATIONS[v]:
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        found = [r[1] for r in self.conn.execute("PRAGMA table_info(runs)")]
        self.columns = [c for c in COLUMNS if c in found]  # an older file read as it is
        added_since = {c for v in range(version, SCHEMA_VERSION) for c in _added(v)}
        missing = [c for c in COLUMNS if c not in found and c not in added_since]
        if missing:
            raise TaskError(f"{self.path} lacks columns {', '.join(missing)}: not ours, or damaged")
        if self.conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise TaskError(f"{self.path} is damaged (SQLite's quick_check fails)")

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            conn.close()
            self.conn = None

    def _write(self, sql: str, params) -> None:
        try:
            with self.conn:
                self.conn.execute(sql, params)
        except sqlite3.Error as err:
            raise TaskError(f"cannot write the sweep database {self.path}: {err}") from None

    def put(self, row: dict) -> None:
        """Write one cell's row (replacing an older row of the same cell), committed at once."""
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise ValueError(f"not columns of runs: {sorted(unknown)}")
        names = list(row)
        self._write(
            f"INSERT OR REPLACE INTO runs ({', '.join(names)}) "
            f"VALUES ({', '.join('?' for _ in names)})",
            [_cell_value(row[n]) for n in names],
        )

    def record_sweep(self, name: str, spec: dict, cells: int) -> None:
        """Note that a sweep started: its name, its spec and how many cells the spec has."""
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self._write("INSERT INTO sweeps VALUES (?, ?, ?, ?)",
                    (started, name, json.dumps(spec), cells))  # fmt: skip

    def statuses(self) -> dict[str, str]:
        """Every recorded cell's key → its status ("ok" or "error")."""
        return {r["cell"]: r["status"] for r in self.conn.execute("SELECT cell, status FROM runs")}

    def rows(self) -> list[dict]:
        """Every row, as plain dicts with booleans as bools, in the order they finished."""
        try:
            cursor = self.conn.execute(f"SELECT {', '.join(self.columns)} FROM runs ORDER BY rowid")
            return [_plain({**dict.fromkeys(COLUMNS), **dict(r)}) for r in cursor]
        except sqlite3.Error as err:
            raise _damaged(self.path, err) from None

    def sweeps(self) -> list[dict]:
        try:
            return [dict(r) for r in self.conn.execute("SELECT * FROM sweeps ORDER BY rowid")]
        except sqlite3.Error as err:
            raise _damaged(self.path, err) from None


def _added(version: int) -> list[str]:
    """The columns that migrating from ``version`` adds."""
    return [statement.split()[5] for statement in MIGRATIONS.get(version, ())]


def _cell_value(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float) and v != v:  # NaN: SQLite would store NULL anyway; say so
        return None
    return v


def _plain(row: dict) -> dict:
    for name in BOOLEAN:
        if row.get(name) is not None:
            row[name] = bool(row[name])
    return row


def export(rows: list[dict], path: str | Path) -> Path:
    """Write ``rows`` to ``path`` as CSV (``.csv``) or Parquet (``.parquet``, needs pyarrow)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(path, buffer.getvalue())
        return path
    if suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ModuleNotFoundError:
            raise TaskError(
                "Parquet export needs pyarrow ('pip install pyarrow'); or export to a .csv file"
            ) from None
        types = {"INTEGER": pa.int64(), "REAL": pa.float64(), "TEXT": pa.string()}
        fields = [(c, pa.bool_() if c in BOOLEAN else types[k.split()[0]])
                  for c, k in COLUMNS.items()]  # fmt: skip
        table = pa.Table.from_pylist(rows, schema=pa.schema(fields))
        atomic_write(path, lambda f: pq.write_table(table, f))
        return path
    raise TaskError(f"--export {path}: the file name must end in .csv or .parquet")
