"""The task core: a task is a table.

Every task is a finite function ``f: X × X → X`` over ``n`` symbols, given as its full table
``table[x, y] = f(x, y)`` together with a boolean ``domain[x, y]`` marking which pairs are
valid (division needs y ≠ 0). Everything downstream reads this one object:

* the synthesizer sees the training cells as examples ``(x, y) → f(x, y)``,
* the network sees the same cells as token sequences ``[x, y, =]`` with label ``f(x, y)``,
* compare sees the whole table, the trained model and the programs.

The train/test split is a seeded function of the task (:meth:`Task.split`), so both learners
always solve *the same* problem: same training pairs, same held-out pairs.

Built-in tasks (``p`` is the modulus, default 97; ``n = p`` for modular tasks):

* the operations of Power et al. 2022, all mod p — ``modadd`` x+y, ``modsub`` x−y,
  ``moddiv`` x/y, ``modcond`` x/y if y odd else x−y, ``modsq`` x²+y², ``modquad`` x²+xy+y²,
  ``modquadx`` x²+xy+y²+x, ``modcube`` x³+xy, ``modcube2`` x³+xy²+y; and ``modmul`` x·y;
* the symmetric group S5 (n = 120, indexing in :mod:`synthcmp.groups`) — ``s5mul`` x·y,
  ``s5div`` x·y⁻¹, ``s5conj`` x·y·x⁻¹;
* ``lookup`` — a uniformly random table (seeded): no program shorter than the table exists.

Label noise (``noise = F``) replaces a fraction F of the domain's labels, chosen at random
(seeded), by a uniformly random *different* value. The noisy table is the task; the clean
one is kept in ``clean_table`` so reports can say how many labels were changed.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from synthcmp import expr as expr_lang
from synthcmp import groups
from synthcmp.errors import TaskError

P_MIN, P_MAX = 2, 1024
DEFAULT_P = 97
# Shared by every command. Power et al. / Nanda et al. train on 30%; at 40% the default
# transformer groks mod 97 in 8 of 8 seeds within 450 steps, at 30% in 2 of 3 within 2000
# steps (the measurements are in neural/config.py).
DEFAULT_TRAIN_FRAC = 0.4
MAX_TABLE_N = 1024


@dataclass(frozen=True)
class TaskInfo:
    """A built-in task as the registry lists it."""

    name: str
    formula: str  # for people, e.g. "x / y (mod p), y ≠ 0"
    family: str  # "modular" | "group" | "table"
    expr: str | None = None  # the same function in the --expr language, when it has one
    needs_prime: bool = False
    domain: str | None = None  # extra domain restriction, in words, when not implied by expr


BUILTIN: dict[str, TaskInfo] = {
    t.name: t
    for t in [
        TaskInfo("modadd", "x + y (mod p)", "modular", "x + y"),
        TaskInfo("modsub", "x − y (mod p)", "modular", "x - y"),
        TaskInfo("moddiv", "x / y (mod p), y ≠ 0", "modular", "x / y", needs_prime=True),
        TaskInfo(
            "modcond",
            "x / y if y odd else x − y (mod p), y ≠ 0",
            "modular",
            "ite(odd(y), x / y, x - y)",
            needs_prime=True,
            domain="y != 0",
        ),
        TaskInfo("modsq", "x² + y² (mod p)", "modular", "x**2 + y**2"),
        TaskInfo("modquad", "x² + xy + y² (mod p)", "modular", "x**2 + x*y + y**2"),
        TaskInfo("modquadx", "x² + xy + y² + x (mod p)", "modular", "x**2 + x*y + y**2 + x"),
        TaskInfo("modcube", "x³ + xy (mod p)", "modular", "x**3 + x*y"),
        TaskInfo("modcube2", "x³ + xy² + y (mod p)", "modular", "x**3 + x*y**2 + y"),
        TaskInfo("modmul", "x · y (mod p)", "modular", "x * y"),
        TaskInfo("s5mul", "x · y in S5", "group", "x * y"),
        TaskInfo("s5div", "x · y⁻¹ in S5", "group", "x * inv(y)"),
        TaskInfo("s5conj", "x · y · x⁻¹ in S5", "group", "x * y * inv(x)"),
        TaskInfo("lookup", "a uniformly random table (seeded)", "table"),
    ]
}

POWER_TASKS = (
    "modadd", "modsub", "moddiv", "modcond", "modsq", "modquad", "modquadx", "modcube", "modcube2",
)  # fmt: skip


@dataclass(frozen=True)
class TaskSpec:
    """Everything needed to rebuild a task; what run folders store and the CLI parses into.

    Exactly one of ``name`` (a built-in), ``expr`` or ``table_path`` describes the function.
    ``seed`` seeds the random table of ``lookup`` and the label noise (not the split).
    """

    name: str | None = None
    p: int = DEFAULT_P
    expr: str | None = None
    table_path: str | None = None
    noise: float = 0.0
    seed: int = 0

    def to_json(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict) -> TaskSpec:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class Split:
    """A seeded train/test split of a task's domain. Index arrays point into ``task.pairs()``."""

    train_frac: float
    seed: int
    train_index: np.ndarray
    test_index: np.ndarray
    x_train: np.ndarray
    y_train: np.ndarray
    out_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    out_test: np.ndarray

    @property
    def n_train(self) -> int:
        return len(self.train_index)

    @property
    def n_test(self) -> int:
        return len(self.test_index)


@dataclass(frozen=True, eq=False)
class Task:
    """A finite function on ``n`` symbols, given as its table, with its valid domain.

    ``table[x, y]`` holds f(x, y) where ``domain[x, y]`` is True and -1 elsewhere.
    """

    name: str
    formula: str
    family: str  # "modular" | "group" | "table"
    n: int
    table: np.ndarray
    domain: np.ndarray
    p: int | None = None
    expr: str | None = None
    noise: float = 0.0
    clean_table: np.ndarray | None = field(default=None, repr=False)
    spec: TaskSpec | None = None

    @property
    def domain_size(self) -> int:
        return int(self.domain.sum())

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """All valid (x, y), in row-major order: the index space that splits point into."""
        x, y = np.nonzero(self.domain)
        return x.astype(np.int64), y.astype(np.int64)

    def split(self, train_frac: float, seed: int = 0) -> Split:
        """Seeded split of the domain: ``round(train_frac · |domain|)`` pairs for training.

        The same (task, train_frac, seed) gives the same split in every engine and process.
        """
        if not 0.0 < train_frac < 1.0:
            raise TaskError(f"train fraction must be in (0, 1), got {train_frac}")
        x, y = self.pairs()
        size = len(x)
        n_train = min(max(int(round(train_frac * size)), 1), size - 1)
        order = np.random.default_rng([seed, 0x5917]).permutation(size)
        train, test = np.sort(order[:n_train]), np.sort(order[n_train:])
        out = self.table[x, y]
        return Split(
            train_frac, seed, train, test,
            x[train], y[train], out[train], x[test], y[test], out[test],
        )  # fmt: skip

    def describe(self) -> dict:
        """A small JSON-ready summary (no table)."""
        return {
            "name": self.name,
            "formula": self.formula,
            "family": self.family,
            "n": self.n,
            "p": self.p,
            "expr": self.expr,
            "domain_size": self.domain_size,
            "noise": self.noise,
        }

    def to_json(self) -> dict:
        """The whole task, table included, so a run folder can rebuild it without its source."""
        data = self.describe()
        data["table"] = self.table.tolist()
        data["domain"] = self.domain.astype(int).tolist()
        if self.clean_table is not None:
            data["clean_table"] = self.clean_table.tolist()
        data["spec"] = self.spec.to_json() if self.spec else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> Task:
        clean = data.get("clean_table")
        return cls(
            name=data["name"],
            formula=data["formula"],
            family=data["family"],
            n=data["n"],
            table=np.asarray(data["table"], dtype=np.int64),
            domain=np.asarray(data["domain"], dtype=bool),
            p=data.get("p"),
            expr=data.get("expr"),
            noise=data.get("noise", 0.0),
            clean_table=None if clean is None else np.asarray(clean, dtype=np.int64),
            spec=TaskSpec.from_json(data["spec"]) if data.get("spec") else None,
        )

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json()))

    @classmethod
    def load(cls, path: str | Path) -> Task:
        return cls.from_json(json.loads(Path(path).read_text()))


# ---------------------------------------------------------------------------------------
# Building tasks


def is_prime(p: int) -> bool:
    return p >= 2 and all(p % d for d in range(2, int(p**0.5) + 1))


def check_p(p: int, needs_prime: bool, what: str) -> None:
    if not P_MIN <= p <= P_MAX:
        raise TaskError(f"p = {p} is out of the supported range {P_MIN}..{P_MAX}")
    if needs_prime and not is_prime(p):
        raise TaskError(f"{what} needs modular inverses, so p must be prime; {p} is not")


def suggest(name: str) -> str:
    close = difflib.get_close_matches(name, list(BUILTIN), n=3, cutoff=0.5)
    return f" Did you mean {', '.join(close)}?" if close else ""


def build_task(spec: TaskSpec) -> Task:
    """Build the task a :class:`TaskSpec` describes, or raise :class:`TaskError`."""
    given = [s for s in (spec.name, spec.expr, spec.table_path) if s is not None]
    if len(given) != 1:
        raise TaskError("give exactly one of: a task name, --expr or --table")
    if not 0.0 <= spec.noise < 1.0:
        raise TaskError(f"noise must be in [0, 1), got {spec.noise}")
    if spec.expr is not None:
        task = expr_task(spec.expr, spec.p)
    elif spec.table_path is not None:
        task = table_task(spec.table_path)
    else:
        task = builtin_task(spec.name, spec.p, spec.seed)
    if spec.noise > 0:
        task = with_noise(task, spec.noise, spec.seed)
    return replace(task, spec=spec)


def get_task(name: str, p: int = DEFAULT_P, noise: float = 0.0, seed: int = 0) -> Task:
    """Shorthand for a built-in task: ``get_task("modadd", p=23)``."""
    return build_task(TaskSpec(name=name, p=p, noise=noise, seed=seed))


def builtin_task(name: str, p: int = DEFAULT_P, seed: int = 0) -> Task:
    info = BUILTIN.get(name)
    if info is None:
        raise TaskError(f"unknown task {name!r}.{suggest(name)} (`synthcmp tasks` lists them)")
    if info.family == "group":
        mul, inv = groups.multiplication_table(), groups.inverses()
        n = len(mul)
        x, y = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        table = expr_lang.eval_group(expr_lang.parse(info.expr), x, y, mul, inv)
        return Task(name, info.formula, "group", n, table, np.ones((n, n), bool), expr=info.expr)
    check_p(p, info.needs_prime, name)
    if info.family == "table":  # lookup
        table = np.random.default_rng([seed, 0x100C]).integers(0, p, size=(p, p))
        return Task(name, info.formula, "table", p, table, np.ones((p, p), bool), p=p)
    task = expr_task(info.expr, p, name=name, formula=info.formula)
    if info.domain == "y != 0":
        domain = task.domain.copy()
        domain[:, 0] = False
        task = replace(task, domain=domain, table=np.where(domain, task.table, -1))
    return task


def expr_task(text: str, p: int, name: str | None = None, formula: str | None = None) -> Task:
    """A modular task from an expression in the --expr language (see :mod:`synthcmp.expr`)."""
    node = expr_lang.parse(text)
    check_p(p, node.uses("inv") or node.uses("div"), f"expression {text!r}")
    x, y = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    values, valid = expr_lang.eval_modular(node, x, y, p)
    if not valid.any():
        raise TaskError(f"expression {text!r} is undefined everywhere mod {p}")
    table = np.where(valid, values, -1).astype(np.int64)
    return Task(
        name or "expr", formula or f"{text} (mod p)", "modular", p, table, valid, p=p, expr=text
    )


def table_task(path: str | Path) -> Task:
    """A task from a CSV file: ``x,y,out`` rows under that header, or an n×n matrix of outputs.

    Symbols are 0..n−1. For rows (the header line ``x,y,out`` says which form it is, since a
    3×3 matrix would otherwise read as three rows), n = 1 + the largest x or y and every
    (x, y) must appear exactly once. For a matrix, row x column y holds f(x, y). Outputs
    must lie in 0..n−1.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise TaskError(f"cannot read table {str(path)!r}: {err.strerror}") from None
    rows = [
        [c.strip() for c in r] for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)
    ]
    if not rows:
        raise TaskError(f"table {path.name} is empty")
    as_rows = [c.lower() for c in rows[0]] == ["x", "y", "out"]
    if as_rows:
        rows = rows[1:]
    try:
        cells = [[int(c) if c != "" else None for c in r] for r in rows]
    except ValueError as err:
        raise TaskError(f"table {path.name}: non-integer cell ({err})") from None
    if any(c is None for r in cells for c in r):
        raise TaskError(f"table {path.name} has missing cells")
    width = {len(r) for r in cells}
    if len(width) != 1:
        raise TaskError(f"table {path.name}: rows have different lengths {sorted(width)}")
    ncol = width.pop()
    data = np.asarray(cells, dtype=np.int64)
    if as_rows:
        if ncol != 3:
            raise TaskError(f"table {path.name}: rows after the x,y,out header need 3 cells")
        if (data[:, :2] < 0).any():
            raise TaskError(f"table {path.name}: x and y must be non-negative")
        n = int(data[:, :2].max()) + 1
        table = np.full((n, n), -1, np.int64)
        seen = np.zeros((n, n), np.int64)
        np.add.at(seen, (data[:, 0], data[:, 1]), 1)
        if (seen > 1).any():
            x, y = np.argwhere(seen > 1)[0]
            raise TaskError(f"table {path.name}: cell ({x}, {y}) is given more than once")
        if (seen == 0).any():
            x, y = np.argwhere(seen == 0)[0]
            raise TaskError(
                f"table {path.name} has missing cells: {int((seen == 0).sum())} of {n * n}, "
                f"first ({x}, {y})"
            )
        table[data[:, 0], data[:, 1]] = data[:, 2]
    elif len(data) == ncol:
        n, table = ncol, data
    else:
        raise TaskError(
            f"table {path.name} has shape {len(data)}×{ncol}: expected x,y,out rows or an n×n matrix"
        )
    if n < 2 or n > MAX_TABLE_N:
        raise TaskError(
            f"table {path.name}: n = {n} is out of the supported range 2..{MAX_TABLE_N}"
        )
    bad = (table < 0) | (table >= n)
    if bad.any():
        x, y = np.argwhere(bad)[0]
        raise TaskError(
            f"table {path.name}: output {table[x, y]} at ({x}, {y}) is out of range 0..{n - 1}"
        )
    return Task(path.stem, f"table from {path.name}", "table", n, table, np.ones((n, n), bool))


def with_noise(task: Task, noise: float, seed: int = 0) -> Task:
    """Replace ``round(noise · |domain|)`` labels by a different uniformly random symbol."""
    rng = np.random.default_rng([seed, 0x0015E])
    x, y = task.pairs()
    k = int(round(noise * len(x)))
    chosen = rng.choice(len(x), size=k, replace=False)
    table = task.table.copy()
    shift = rng.integers(1, task.n, size=k)  # a nonzero shift: the new label always differs
    table[x[chosen], y[chosen]] = (table[x[chosen], y[chosen]] + shift) % task.n
    return replace(
        task, table=table, noise=noise, clean_table=task.table,
        formula=f"{task.formula}, {noise:.0%} labels noised",
    )  # fmt: skip


def task_table_rows(p: int = DEFAULT_P) -> list[dict]:
    """One row per built-in task at modulus ``p`` (for ``synthcmp tasks``), read off the built
    task itself; ``domain_size`` is None where the task cannot be built at this p."""
    rows = []
    for info in BUILTIN.values():
        try:
            task = builtin_task(info.name, p)
            n, size = task.n, task.domain_size
        except TaskError:  # e.g. moddiv at a p that is not prime
            n, size = p, None
        rows.append(
            {"name": info.name, "formula": info.formula, "family": info.family,
             "expr": info.expr, "n": n, "domain_size": size}
        )  # fmt: skip
    return rows
