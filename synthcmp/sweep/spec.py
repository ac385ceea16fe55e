"""A sweep spec: lists to cross, written as TOML, and the cells of their product.

A spec names a list for each axis of the grid (a single value stands for a list of one)::

    name = "small"
    tasks = ["modadd", "modsub"]       # built-in task names (`synthcmp tasks`)
    exprs = ["x**2 + y", "x**3 + x*y"] # and/or tasks of your own: expressions in x, y mod p
    p = 13                             # moduli (group tasks such as s5mul ignore p)
    frac = [0.3, 0.5, 0.8]             # training fractions   [default: each task's]
    seed = [0, 1]                      # split + network seeds [default: 0]
    model = "transformer"              # transformer | mlp    [default: each task's:
                                       #   the MLP for group tasks, else the transformer]
    weight_decay = [1.0, 4.0]          #                      [default: the model's]
    lr = 0.01                          #                      [default: the model's]
    steps = 300                        # step budget          [default: the model's]
    stages = ["synth", "train", "compare"]   # what each cell runs [default: all three]
    top = 5                            # programs kept and matched per cell
    plots = false                      # draw each run's PNGs (slow; the report draws its own)
    llc = false                        # also estimate λ̂ at each cell's final checkpoint
                                       #   (about 4 s a cell at p = 97; needs compare)

The grid is the product of the axes: every (task, p, frac, seed, model, weight_decay, lr,
steps) is one :class:`Cell`, a full run. Defaults are resolved when the spec is read, so a
cell's :attr:`Cell.key` names the exact configuration it ran; that key is how the database
knows which cells are done, so rerunning a spec runs only what is missing, and a spec that
adds a seed adds only that seed's cells.

Every mistake in a spec (bad TOML, an unknown key or task, a value out of range, a
duplicate) is a :class:`~taskcore.errors.TaskError` naming the file and the key.
"""

from __future__ import annotations

import difflib
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

from synthcmp.ui import (
    LR_MAX,
    MAX_STEPS,
    MAX_TOP,
    MODELS,
    TOP,
    WEIGHT_DECAY_MAX,
    lr_ok,
    steps_ok,
    weight_decay_ok,
)
from taskcore import BUILTIN, TaskSpec, build_task
from taskcore.errors import TaskError
from taskcore.serial import JsonMixin
from taskcore.table import DEFAULT_P, SEED_MAX, default_train_frac

STAGES = ("synth", "train", "compare")
AXES = ("tasks", "exprs", "p", "frac", "seed", "model", "weight_decay", "lr", "steps")
OPTIONS = ("name", "stages", "top", "plots", "llc")
MAX_CELLS = 100_000
MAX_SPEC_BYTES = 1 << 20


@dataclass(frozen=True)
class Cell(JsonMixin):
    """One run of the grid, with every default resolved (``p`` is None for group tasks)."""

    task: str
    p: int | None
    frac: float
    seed: int
    model: str
    weight_decay: float
    lr: float
    steps: int
    stages: tuple[str, ...] = STAGES
    top: int = TOP  # programs kept and matched: which one the network matches can depend on it
    llc: bool = False  # also λ̂ at the final checkpoint: a cell without it has no such number
    expr: bool = False  # ``task`` is an expression in x, y mod p (a spec's ``exprs``)

    def task_spec(self) -> TaskSpec:
        """How to build the cell's task."""
        p = self.p if self.p is not None else DEFAULT_P
        if self.expr:
            return TaskSpec(expr=self.task, p=p, seed=self.seed)
        return TaskSpec(name=self.task, p=p, seed=self.seed)

    @property
    def key(self) -> str:
        """The cell's identity in the database: every value that decides its numbers."""
        p = f" p={self.p}" if self.p is not None else ""
        task = f"expr={self.task!r}" if self.expr else self.task
        return (
            f"{task}{p} frac={self.frac!r} seed={self.seed} model={self.model} "
            f"wd={self.weight_decay!r} lr={self.lr!r} steps={self.steps} "
            f"stages={'+'.join(self.stages)}{self._top}{' llc' if self.llc else ''}"
        )

    @property
    def _top(self) -> str:
        return f" top={self.top}" if self.top != TOP else ""  # the default's keys stay as they were

    @property
    def folder(self) -> str:
        """The run folder's name under the sweep's ``runs/`` (one per key)."""
        p = f"-p{self.p}" if self.p is not None else ""
        stages = "" if self.stages == STAGES else "-" + "+".join(self.stages)
        task = self.task
        if self.expr:  # a safe name, and a hash to keep x*y and x+y apart
            import hashlib

            safe = "".join(ch if ch.isalnum() else "_" for ch in self.task)[:40]
            task = f"expr-{safe}-{hashlib.sha1(self.task.encode()).hexdigest()[:8]}"
        return (
            f"{task}{p}-f{self.frac!r}-s{self.seed}-{self.model}-wd{self.weight_decay!r}"
            f"-lr{self.lr!r}-st{self.steps}{stages}{self._top.replace(' top=', '-top')}"
            f"{'-llc' if self.llc else ''}"
        )

    def label(self, vary: tuple[str, ...] = ()) -> str:
        """A short name for progress lines: task, p, fraction, seed, and the ``vary`` axes."""
        p = f" p={self.p}" if self.p is not None else ""
        short = {"model": "", "weight_decay": "wd=", "lr": "lr=", "steps": "steps="}
        extra = "".join(f" {short[k]}{getattr(self, k):g}" if k != "model" else f" {self.model}"
                        for k in vary if k in short)  # fmt: skip
        return f"{self.task}{p} frac={self.frac:g} seed={self.seed}{extra}"


def varying(cells: list[Cell]) -> tuple[str, ...]:
    """The axes besides task, p, fraction and seed that take more than one value."""
    return tuple(k for k in ("model", "weight_decay", "lr", "steps")
                 if len({getattr(c, k) for c in cells}) > 1)  # fmt: skip


@dataclass(frozen=True)
class SweepSpec(JsonMixin):
    """A parsed spec. Empty tuples mean "the default" (resolved per cell by :meth:`cells`)."""

    name: str
    tasks: tuple[str, ...]
    exprs: tuple[str, ...] = ()
    p: tuple[int, ...] = (DEFAULT_P,)
    frac: tuple[float, ...] = ()
    seed: tuple[int, ...] = (0,)
    model: tuple[str, ...] = ()
    weight_decay: tuple[float, ...] = ()
    lr: tuple[float, ...] = ()
    steps: tuple[int, ...] = ()
    stages: tuple[str, ...] = STAGES
    top: int = TOP
    plots: bool = False
    llc: bool = False

    def cells(self) -> list[Cell]:
        """The product of the axes, seeds outermost (an interrupted sweep has whole seeds),
        fractions innermost; group tasks take no p, so they appear once per other value."""
        from neural.config import DEFAULTS, default_model  # the model's defaults (torch)

        cells: dict[str, Cell] = {}
        named = [(task, False) for task in self.tasks] + [(e, True) for e in self.exprs]
        for seed, (task, expr), p in itertools.product(self.seed, named, self.p):
            spec = TaskSpec(expr=task, p=p, seed=seed) if expr else TaskSpec(name=task, p=p,
                                                                              seed=seed)  # fmt: skip
            built = build_task(spec)
            for model in self.model or (default_model(built),):
                self._add_cells(cells, built, task, seed, model, DEFAULTS[model], expr)
        return list(cells.values())

    def _add_cells(self, cells: dict, built, task: str, seed: int, model: str, defaults,
                   expr: bool = False) -> None:  # fmt: skip
        for wd, lr, steps, frac in itertools.product(
                self.weight_decay or (defaults.weight_decay,), self.lr or (defaults.lr,),
                self.steps or (defaults.steps,), self.frac or (default_train_frac(built),),
            ):  # fmt: skip
            cell = Cell(task, built.p, float(frac), seed, model, float(wd), float(lr),
                        int(steps), self.stages, self.top, self.llc, expr)  # fmt: skip
            cells.setdefault(cell.key, cell)

    @property
    def size(self) -> int:
        """How many cells the product has, at most (before group tasks collapse p)."""
        return math.prod(len(v) or 1 for v in (self.tasks + self.exprs, self.p, self.frac, self.seed,
                                                self.model, self.weight_decay, self.lr,
                                                self.steps))  # fmt: skip


def load_spec(path: str | Path) -> SweepSpec:
    """Read and check the TOML spec at ``path``."""
    from taskcore.files import read_text_capped

    path = Path(path)
    text = read_text_capped(path, MAX_SPEC_BYTES, "sweep spec")
    return parse_spec(text, source=str(path), default_name=path.stem)


def parse_spec(text: str, source: str = "spec", default_name: str = "sweep") -> SweepSpec:
    """Check a spec's TOML text; every mistake is a TaskError that names ``source`` and the key."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise TaskError(
                "reading a sweep spec needs Python ≥ 3.11 or 'pip install tomli'"
            ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise TaskError(f"{source} is not valid TOML: {err}") from None
    except RecursionError:
        raise TaskError(f"{source} is nested too deeply to be a sweep spec") from None

    def fail(key: str, message: str):
        raise TaskError(f"{source}: {key}: {message}")

    for key in data:
        if key not in AXES + OPTIONS:
            close = difflib.get_close_matches(key, AXES + OPTIONS, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise TaskError(
                f"{source}: unknown key {key!r}.{hint} (known: {', '.join(AXES + OPTIONS)})"
            )
    if "tasks" not in data and "exprs" not in data:
        raise TaskError(f"{source}: no 'tasks': name the tasks to sweep, e.g. tasks = [\"modadd\"] "
                        "(or exprs = [\"x**2 + y\"] for tasks of your own)")

    def values(key: str, kinds: tuple[type, ...], what: str) -> tuple:
        raw = data[key]
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            fail(key, "is an empty list")
        for v in items:
            if isinstance(v, bool) or not isinstance(v, kinds):
                fail(key, f"expected {what}, got {v!r}")
        seen = set()
        for v in items:
            if v in seen:
                fail(key, f"lists {v!r} twice")
            seen.add(v)
        return tuple(items)

    def in_range(key: str, items: tuple, ok, rule: str) -> tuple:
        for v in items:
            if not ok(v):
                fail(key, f"{v!r} is not {rule}")
        return items

    spec: dict = {"name": default_name}
    if "name" in data:
        if not isinstance(data["name"], str) or not data["name"].strip():
            fail("name", f"expected a non-empty string, got {data['name']!r}")
        spec["name"] = data["name"].strip()
    spec["tasks"] = values("tasks", (str,), "task names (strings)") if "tasks" in data else ()
    if "exprs" in data:
        spec["exprs"] = values("exprs", (str,), "expressions in x, y (strings)")
    for name in spec["tasks"]:
        if name not in BUILTIN:
            close = difflib.get_close_matches(name, list(BUILTIN), n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            fail("tasks", f"unknown task {name!r}.{hint} (`synthcmp tasks` lists them)")
    number = (int, float)
    if "p" in data:
        spec["p"] = values("p", (int,), "integers")
    if "frac" in data:
        spec["frac"] = in_range("frac", values("frac", number, "numbers"),
                                lambda v: 0 < v < 1, "in (0, 1)")  # fmt: skip
    if "seed" in data:
        spec["seed"] = in_range("seed", values("seed", (int,), "integers"),
                                lambda v: 0 <= v <= SEED_MAX, f"in 0..{SEED_MAX}")  # fmt: skip
    if "model" in data:
        spec["model"] = in_range("model", values("model", (str,), "model names (strings)"),
                                 lambda v: v in MODELS, f"one of {', '.join(MODELS)}")  # fmt: skip
    if "weight_decay" in data:
        spec["weight_decay"] = in_range(
            "weight_decay", values("weight_decay", number, "numbers"),
            weight_decay_ok, f"in [0, {WEIGHT_DECAY_MAX:g}]",
        )  # fmt: skip
    if "lr" in data:
        spec["lr"] = in_range("lr", values("lr", number, "numbers"),
                              lr_ok, f"in (0, {LR_MAX:g}]")  # fmt: skip
    if "steps" in data:
        spec["steps"] = in_range("steps", values("steps", (int,), "integers"),
                                 steps_ok, f"in 0..{MAX_STEPS:,}")  # fmt: skip
    if "stages" in data:
        stages = in_range("stages", values("stages", (str,), "stage names (strings)"),
                          lambda v: v in STAGES, f"one of {', '.join(STAGES)}")  # fmt: skip
        if "compare" in stages and not {"synth", "train"} <= set(stages):
            fail("stages", "compare needs synth and train (it matches the trained network "
                           "against the synthesizer's programs)")  # fmt: skip
        spec["stages"] = tuple(s for s in STAGES if s in stages)
    if "top" in data:
        top = data["top"]
        if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_TOP:
            fail("top", f"expected an integer in 1..{MAX_TOP}, got {top!r}")
        spec["top"] = top
    for flag in ("plots", "llc"):
        if flag in data:
            if not isinstance(data[flag], bool):
                fail(flag, f"expected true or false, got {data[flag]!r}")
            spec[flag] = data[flag]
    if spec.get("llc") and "compare" not in spec.get("stages", STAGES):
        fail("llc", "λ̂ is estimated by compare: add it to stages")

    result = SweepSpec(**spec)
    modular = [t for t in result.tasks if BUILTIN[t].family != "group"]
    for task, p in itertools.product(modular, result.p):
        try:
            build_task(TaskSpec(name=task, p=p))
        except TaskError as err:
            fail("p", str(err))
    for expr, p in itertools.product(result.exprs, result.p):
        try:
            build_task(TaskSpec(expr=expr, p=p))
        except TaskError as err:
            fail("exprs", f"{expr!r} at p = {p}: {err}")
    if result.size > MAX_CELLS:
        raise TaskError(f"{source}: {result.size:,} cells; a sweep holds at most {MAX_CELLS:,}")
    return result
