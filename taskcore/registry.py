"""The built-in tasks and how a task is built from what a user typed.

:class:`TaskInfo` lists a built-in (:data:`BUILTIN`); :func:`build_task` turns a
:class:`~taskcore.table.TaskSpec` (a name, an expression, a CSV file, with noise) into a
:class:`~taskcore.table.Task`. Built-ins (``p`` is the modulus, default 97; ``n = p``):

* the operations of Power et al. 2022, all mod p — ``modadd`` x+y, ``modsub`` x−y,
  ``moddiv`` x/y, ``modcond`` x/y if y odd else x−y, ``modsq`` x²+y², ``modquad`` x²+xy+y²,
  ``modquadx`` x²+xy+y²+x, ``modcube`` x³+xy, ``modcube2`` x³+xy²+y; and ``modmul`` x·y;
* group tasks, named group + operation (indexing in :mod:`taskcore.groups`): the groups
  S3 … S6 (``s5`` has n = 120) and the dihedral groups D_m (``d13``, n = 26), the
  operations ``mul`` x·y, ``div`` x·y⁻¹, ``conj`` x·y·x⁻¹ and ``aba`` x·y·x (Power et al.
  list s5mul, s5conj and s5aba); ``--expr`` with ``--group`` gives any other word;
* ``lookup`` — a uniformly random table (seeded): no program shorter than the table exists.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace

import numpy as np

from taskcore import groups
from taskcore.algebra import Algebra
from taskcore.errors import TaskError
from taskcore.language import parse
from taskcore.table import DEFAULT_P, Task, TaskSpec, check_p, check_seed, default_train_frac


@dataclass(frozen=True)
class TaskInfo:
    """A built-in task as the registry lists it."""

    name: str
    formula: str  # for people, e.g. "x / y (mod p), y ≠ 0"
    family: str  # "modular" | "group" | "table"
    expr: str | None = None  # the same function in the --expr language, when it has one
    needs_prime: bool = False
    domain: str | None = None  # extra domain restriction, in words, when not implied by expr
    group: str | None = None  # the group of a group task, e.g. "S5"


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
        TaskInfo("lookup", "a uniformly random table (seeded)", "table"),
    ]
}

# Group tasks are named group + operation: s5mul, s4conj, d13mul … (S_k for k = 3 … 6, D_m)
GROUP_OPS = {
    "mul": ("x * y", "x · y"),
    "div": ("x * inv(y)", "x · y⁻¹"),
    "conj": ("x * y * inv(x)", "x · y · x⁻¹"),
    "aba": ("x * y * x", "x · y · x"),
}
GROUP_TASK = re.compile(r"(s[3-6]|d\d{1,3})(mul|div|conj|aba)")
LISTED_GROUP_TASKS = ("s5mul", "s5div", "s5conj", "s5aba", "s4mul", "s3mul", "d13mul")


def group_task_info(name: str) -> TaskInfo | None:
    """The TaskInfo of a group task name such as ``s4mul`` or ``d13conj`` (None otherwise)."""
    match = GROUP_TASK.fullmatch(name)
    if match is None:
        return None
    group, op = match.group(1).upper(), match.group(2)
    expr, shown = GROUP_OPS[op]
    return TaskInfo(name, f"{shown} in {group}", "group", expr, group=group)


BUILTIN.update({name: group_task_info(name) for name in LISTED_GROUP_TASKS})

POWER_TASKS = (
    "modadd", "modsub", "moddiv", "modcond", "modsq", "modquad", "modquadx", "modcube", "modcube2",
)  # fmt: skip


def suggest(name: str) -> str:
    close = difflib.get_close_matches(name, list(BUILTIN), n=3, cutoff=0.5)
    return f" Did you mean {', '.join(close)}?" if close else ""


def build_task(spec: TaskSpec) -> Task:
    """Build the task a :class:`TaskSpec` describes, or raise :class:`TaskError`."""
    from taskcore.tablefile import table_task

    given = [s for s in (spec.name, spec.expr, spec.table_path) if s is not None]
    if len(given) != 1:
        raise TaskError("give exactly one of: a task name, --expr or --table")
    if not 0.0 <= spec.noise < 1.0:
        raise TaskError(f"noise must be in [0, 1), got {spec.noise}")
    check_seed(spec.seed)
    if spec.group is not None and spec.expr is None:
        raise TaskError("--group goes with --expr (a group task by name is e.g. s4mul)")
    if spec.expr is not None and spec.group is not None:
        task = group_expr_task(spec.expr, spec.group)
    elif spec.expr is not None:
        task = expr_task(spec.expr, spec.p)
    elif spec.table_path is not None:
        task = table_task(spec.table_path)
    else:
        task = builtin_task(spec.name, spec.p, spec.seed)
    if spec.noise > 0:
        task = replace(
            task, noise=spec.noise, noise_seed=spec.seed,
            formula=f"{task.formula}, {spec.noise:.0%} of training labels noised",
        )  # fmt: skip
    return replace(task, spec=spec)


def get_task(name: str, p: int = DEFAULT_P, noise: float = 0.0, seed: int = 0) -> Task:
    """Shorthand for a built-in task: ``get_task("modadd", p=23)``."""
    return build_task(TaskSpec(name=name, p=p, noise=noise, seed=seed))


def builtin_task(name: str, p: int = DEFAULT_P, seed: int = 0) -> Task:
    info = BUILTIN.get(name) or group_task_info(name)
    if info is None:
        raise TaskError(f"unknown task {name!r}.{suggest(name)} (`synthcmp tasks` lists them)")
    if info.family == "group":
        return group_expr_task(info.expr, info.group, name=name, formula=info.formula)
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
    """A modular task from an expression in the --expr language (:mod:`taskcore.language`)."""
    expr = parse(text)
    check_p(p, expr.uses("inv") or expr.uses("div"), f"expression {text!r}")
    x, y = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    values, valid = Algebra(p).evaluate(expr, x, y)
    if valid.sum() < 2:
        raise TaskError(f"expression {text!r} is defined at fewer than 2 pairs mod {p}")
    table = np.where(valid, values, -1).astype(np.int64)
    return Task(
        name or "expr", formula or f"{text} (mod p)", "modular", p, table, valid, p=p, expr=text
    )


def group_expr_task(
    text: str, group_name: str, name: str | None = None, formula: str | None = None
) -> Task:
    """A task whose table is a word in a group: ``x * y * inv(x)`` in S5, ``x * y`` in D13."""
    group = groups.group_by_name(group_name)
    n = group.n
    x, y = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    table = Algebra(n, group).values(parse(text), x, y)
    return Task(name or "expr", formula or f"{text} in {group.name}", "group", n, table,
                np.ones((n, n), bool), expr=text, group=group.name)  # fmt: skip


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
        frac = default_train_frac(task) if size is not None else None
        rows.append(
            {"name": info.name, "formula": info.formula, "family": info.family,
             "expr": info.expr, "n": n, "domain_size": size, "train_frac": frac}
        )  # fmt: skip
    return rows
