"""taskcore: the ground floor — a task is a table.

Everything else stands on this package and it stands on nothing of the project's:

* :mod:`taskcore.table` — :class:`Task`, :class:`Split`, :class:`TaskSpec`, the built-ins;
* :mod:`taskcore.tablefile` — custom tasks from CSV files, read defensively;
* :mod:`taskcore.language` — the one expression language (parse, print);
* :mod:`taskcore.algebra` — what it means mod n or in a group (evaluate, canonical form);
* :mod:`taskcore.groups` — S_k and D_m as tables;
* :mod:`taskcore.events` — memorized, grokked, faithful, implements: one definition each;
* :mod:`taskcore.serial` — dataclasses ↔ JSON, one convention;
* :mod:`taskcore.files` — atomic writes, capped reads, folder locks;
* :mod:`taskcore.errors` — :class:`TaskError`, a user's mistake.
"""

from taskcore.algebra import Algebra, canonical
from taskcore.errors import TaskError
from taskcore.language import Expr, parse
from taskcore.registry import BUILTIN, POWER_TASKS, build_task, expr_task, get_task
from taskcore.table import DEFAULT_P, DEFAULT_TRAIN_FRAC, Split, Task, TaskSpec
from taskcore.tablefile import table_task

__all__ = [
    "BUILTIN", "DEFAULT_P", "DEFAULT_TRAIN_FRAC", "POWER_TASKS", "Algebra", "Expr", "Split",
    "Task", "TaskError", "TaskSpec", "build_task", "canonical", "expr_task", "get_task", "parse",
    "table_task",
]  # fmt: skip
