"""The core object: a task is a table.

Every task is a finite function ``f: X × X → X`` over ``n`` symbols, given as its full table
``table[x, y] = f(x, y)`` together with a boolean ``domain[x, y]`` marking which pairs are
valid (division needs y ≠ 0). Everything downstream reads this one object:

* the synthesizer sees the training cells as examples ``(x, y) → f(x, y)``,
* the network sees the same cells as token sequences ``[x, y, =]`` with label ``f(x, y)``,
* compare sees the whole table, the trained model and the programs.

The train/test split is a seeded function of the task (:meth:`Task.split`), so both learners
always solve *the same* problem: same training pairs, same held-out pairs.

The built-in tasks and the builders live in :mod:`taskcore.registry`.

**Label noise** (``noise = F``) is a property of the *training* labels, as in the label-noise
literature: the table stays the true function, and :meth:`Task.split` replaces
``round(F · N_train)`` of the N_train training labels, chosen at random (seeded), by a
uniformly random *different* value. Test labels are always clean, so test accuracy measures
whether a learner found the rule despite the noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from taskcore import groups
from taskcore.algebra import Algebra
from taskcore.errors import TaskError
from taskcore.serial import JsonMixin

P_MIN, P_MAX = 2, 1024
DEFAULT_P = 97
DEFAULT_TRAIN_FRAC = 0.3  # Power et al. and Nanda et al. train on 30% of the pairs
MIN_TRAIN_PAIRS = 480  # below this many training pairs grokking turns slow and unreliable
MAX_DEFAULT_FRAC = 0.8
SEED_MAX = 2**32 - 1


@dataclass(frozen=True)
class TaskSpec(JsonMixin):
    """Everything needed to rebuild a task; what run folders store and the CLI parses into.

    Exactly one of ``name`` (a built-in), ``expr`` or ``table_path`` describes the function;
    ``group`` makes ``expr`` a word in that group.
    ``seed`` seeds the random table of ``lookup`` and the choice of noisy labels.
    """

    name: str | None = None
    p: int = DEFAULT_P
    expr: str | None = None
    table_path: str | None = None
    noise: float = 0.0
    seed: int = 0
    group: str | None = None  # with expr: evaluate it in this group (S4, D13, …), not mod p


@dataclass(frozen=True)
class Split:
    """A seeded train/test split of a task's domain. Index arrays point into ``task.pairs()``.

    ``out_train`` are the labels the learners see (noisy where the task has noise);
    ``clean_train`` the true values there. ``out_test`` is always clean.
    """

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
    clean_train: np.ndarray

    @property
    def n_train(self) -> int:
        return len(self.train_index)

    @property
    def n_test(self) -> int:
        return len(self.test_index)

    @property
    def n_noisy(self) -> int:
        """Training labels that differ from the true function."""
        return int((self.out_train != self.clean_train).sum())

    def masks(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(train, test) as (n, n) boolean masks over the inputs."""
        train = np.zeros((n, n), bool)
        test = np.zeros((n, n), bool)
        train[self.x_train, self.y_train] = True
        test[self.x_test, self.y_test] = True
        return train, test


@dataclass(frozen=True, eq=False)
class Task:
    """A finite function on ``n`` symbols, given as its table, with its valid domain.

    ``table[x, y]`` holds f(x, y) where ``domain[x, y]`` is True and −1 elsewhere. ``group``
    names the group of a group task ("S5"); ``noise`` is the share of training labels that
    :meth:`split` corrupts, chosen with ``noise_seed``.
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
    noise_seed: int = 0
    group: str | None = None
    spec: TaskSpec | None = field(default=None, repr=False)

    @property
    def domain_size(self) -> int:
        return int(self.domain.sum())

    @property
    def algebra(self) -> Algebra:
        """What the language's operations mean for this task: its group, or arithmetic mod n
        (lookup and custom tables too: the synthesizer searches programs over Z_n for them)."""
        if self.group is not None:
            return Algebra(self.n, groups.group_by_name(self.group))
        return Algebra(self.n)

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """All valid (x, y), in row-major order: the index space that splits point into."""
        x, y = np.nonzero(self.domain)
        return x.astype(np.int64), y.astype(np.int64)

    def split(self, train_frac: float, seed: int = 0) -> Split:
        """Seeded split of the domain: ``round(train_frac · |domain|)`` pairs for training.

        The same (task, train_frac, seed) gives the same split in every engine and process.
        With noise, ``round(noise · N_train)`` training labels are replaced (module docstring).
        """
        if not 0.0 < train_frac < 1.0:
            raise TaskError(f"train fraction must be in (0, 1), got {train_frac}")
        check_seed(seed)
        x, y = self.pairs()
        size = len(x)
        if size < 2:
            raise TaskError(f"task {self.name} has fewer than 2 valid pairs; nothing to split")
        n_train = min(max(int(round(train_frac * size)), 1), size - 1)
        order = np.random.default_rng([seed, 0x5917]).permutation(size)
        train, test = np.sort(order[:n_train]), np.sort(order[n_train:])
        out = self.table[x, y]
        clean = out[train]
        noisy = clean.copy()
        if self.noise > 0 and self.n > 1:
            rng = np.random.default_rng([self.noise_seed, 0x0015E, seed])
            k = int(round(self.noise * n_train))
            chosen = rng.choice(n_train, size=k, replace=False)
            shift = rng.integers(1, self.n, size=k)  # nonzero: the new label always differs
            noisy[chosen] = (noisy[chosen] + shift) % self.n
        return Split(
            train_frac, seed, train, test, x[train], y[train], noisy,
            x[test], y[test], out[test], clean,
        )  # fmt: skip

    def describe(self) -> dict:
        """A small JSON-ready summary (no table)."""
        return {
            "name": self.name, "formula": self.formula, "family": self.family, "n": self.n,
            "p": self.p, "expr": self.expr, "group": self.group,
            "domain_size": self.domain_size, "noise": self.noise,
        }  # fmt: skip

    def to_json(self) -> dict:
        """The whole task, table included, so a run folder can rebuild it without its source."""
        data = self.describe()
        data["noise_seed"] = self.noise_seed
        data["table"] = self.table.tolist()
        data["domain"] = self.domain.astype(int).tolist()
        data["spec"] = self.spec.to_json() if self.spec else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> Task:
        """Rebuild a task; a document that is not a well-formed task is a TaskError."""
        try:
            n = int(data["n"])
            table = np.asarray(data["table"], dtype=np.int64)
            domain = np.asarray(data["domain"], dtype=bool)
            if table.shape != (n, n) or domain.shape != (n, n) or not 1 <= n <= P_MAX:
                raise ValueError("table shape")
            valid = table[domain]
            if valid.size and (valid.min() < 0 or valid.max() >= n):
                raise ValueError("table values")
            return cls(
                name=str(data["name"]), formula=str(data["formula"]), family=str(data["family"]),
                n=n, table=table, domain=domain, p=data.get("p"), expr=data.get("expr"),
                noise=float(data.get("noise", 0.0)), noise_seed=int(data.get("noise_seed", 0)),
                group=data.get("group"),
                spec=TaskSpec.from_json(data["spec"]) if data.get("spec") else None,
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, OverflowError) as err:
            raise TaskError(f"not a valid task document ({type(err).__name__}: {err})") from None


# ---------------------------------------------------------------------------------------
# Building tasks


def default_train_frac(task: Task) -> float:
    """The training fraction every command uses unless ``--frac`` says otherwise.

    The papers' 30%, or more where 30% of the domain is fewer than :data:`MIN_TRAIN_PAIRS`
    pairs: the smallest multiple of 5% that gives that many, at most 80%. So p ≥ 41 trains
    on 30%, p = 37 on 40%, p = 31 on 50%, p = 23 on 80%. Why pairs and not a fraction: what
    a network needs to find the rule is examples, and a small p has few (at p = 31, 30% is
    288 pairs, and the default network then groks late or not at all —
    ``benchmarks/grok.py`` measures it).
    """
    size = max(task.domain_size, 1)
    needed = math.ceil(MIN_TRAIN_PAIRS / size * 20 - 1e-9) / 20
    return float(min(max(DEFAULT_TRAIN_FRAC, needed), MAX_DEFAULT_FRAC))


def is_prime(p: int) -> bool:
    return p >= 2 and all(p % d for d in range(2, int(p**0.5) + 1))


def check_p(p: int, needs_prime: bool, what: str) -> None:
    if not P_MIN <= p <= P_MAX:
        raise TaskError(f"p = {p} is out of the supported range {P_MIN}..{P_MAX}")
    if needs_prime and not is_prime(p):
        raise TaskError(f"{what} needs modular inverses, so p must be prime; {p} is not")


def check_seed(seed: int) -> int:
    if not 0 <= seed <= SEED_MAX:
        raise TaskError(f"seed must be in 0..{SEED_MAX}, got {seed}")
    return seed
