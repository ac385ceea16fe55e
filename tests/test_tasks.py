"""Every built-in table against an independent brute-force formula, S5's group laws, splits."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from taskcore import groups
from taskcore.registry import BUILTIN, POWER_TASKS, build_task, get_task
from taskcore.table import Task, TaskSpec

P = 23


def brute(name: str, x: int, y: int, p: int) -> int | None:
    """The Power et al. operations written out cell by cell, with Python's own pow()."""
    inv = pow(y, -1, p) if y % p else None
    return {
        "modadd": lambda: (x + y) % p,
        "modsub": lambda: (x - y) % p,
        "moddiv": lambda: None if inv is None else x * inv % p,
        "modcond": lambda: None if y == 0 else (x * inv % p if y % 2 == 1 else (x - y) % p),
        "modsq": lambda: (x * x + y * y) % p,
        "modquad": lambda: (x * x + x * y + y * y) % p,
        "modquadx": lambda: (x * x + x * y + y * y + x) % p,
        "modcube": lambda: (x**3 + x * y) % p,
        "modcube2": lambda: (x**3 + x * y * y + y) % p,
        "modmul": lambda: x * y % p,
    }[name]()


@pytest.mark.parametrize("name", [*POWER_TASKS, "modmul"])
def test_modular_tables_match_brute_force(name):
    task = get_task(name, p=P)
    assert task.n == P
    for x, y in itertools.product(range(P), range(P)):
        expected = brute(name, x, y, P)
        if expected is None:
            assert not task.domain[x, y]
        else:
            assert task.domain[x, y] and task.table[x, y] == expected, (x, y)


def test_division_tasks_exclude_y_zero_only():
    for name in ("moddiv", "modcond"):
        task = get_task(name, p=P)
        assert task.domain_size == P * (P - 1)
        assert not task.domain[:, 0].any()


def compose(a, b):
    return tuple(a[b[i]] for i in range(5))


def test_s5_indexing_and_group_laws():
    s5 = groups.symmetric(5)
    perms, mul, inv = s5.elements, s5.mul, s5.inverse
    assert len(perms) == 120 and perms[0] == (0, 1, 2, 3, 4) and list(perms) == sorted(perms)
    for a in range(120):  # the table is composition a∘b, as documented
        for b in range(0, 120, 7):
            assert perms[mul[a, b]] == compose(perms[a], perms[b])
    e = s5.identity
    assert e == 0
    assert (mul[e] == np.arange(120)).all() and (mul[:, e] == np.arange(120)).all()
    assert (mul[np.arange(120), inv] == e).all() and (mul[inv, np.arange(120)] == e).all()
    a, b, c = np.meshgrid(*[np.arange(0, 120, 5)] * 3, indexing="ij")
    assert (mul[mul[a, b], c] == mul[a, mul[b, c]]).all()  # associativity


def test_s5_tasks():
    mul = groups.symmetric(5).mul
    s5mul, s5div, s5conj = (get_task(n) for n in ("s5mul", "s5div", "s5conj"))
    x, y = np.meshgrid(np.arange(120), np.arange(120), indexing="ij")
    assert (s5mul.table == mul).all()
    assert (mul[s5div.table, y] == x).all()  # (x·y⁻¹)·y = x
    assert (mul[s5conj.table, x] == mul[x, y]).all()  # (x·y·x⁻¹)·x = x·y
    assert all(t.n == 120 and t.domain.all() for t in (s5mul, s5div, s5conj))
    assert not (s5mul.table == s5mul.table.T).all()  # S5 is not abelian


def test_lookup_is_seeded_and_random():
    a, b, c = (
        get_task("lookup", p=P, seed=1),
        get_task("lookup", p=P, seed=1),
        get_task("lookup", p=P, seed=2),
    )
    assert (a.table == b.table).all() and not (a.table == c.table).all()
    assert a.table.min() >= 0 and a.table.max() < P
    counts = np.bincount(a.table.ravel(), minlength=P)
    assert counts.min() > 0  # every symbol appears: not a degenerate table


def test_noise_changes_exactly_that_share_of_the_training_labels_only():
    clean = get_task("modadd", p=P)
    noisy = get_task("modadd", p=P, noise=0.05, seed=3)
    assert (noisy.table == clean.table).all()  # the task is still the true function
    split, clean_split = noisy.split(0.5, seed=3), clean.split(0.5, seed=3)
    changed = (split.out_train != clean_split.out_train).sum()
    assert changed == split.n_noisy == round(0.05 * split.n_train)
    assert (split.clean_train == clean_split.out_train).all()
    assert (split.out_test == clean_split.out_test).all()  # the test labels stay clean
    again = get_task("modadd", p=P, noise=0.05, seed=3).split(0.5, seed=3)
    assert (again.out_train == split.out_train).all()


@pytest.mark.parametrize("name", ["modadd", "moddiv", "s5conj"])
def test_split_is_deterministic_disjoint_and_covering(name):
    task = get_task(name, p=P)
    a, b = task.split(0.3, seed=7), task.split(0.3, seed=7)
    assert (a.train_index == b.train_index).all()
    assert set(a.train_index).isdisjoint(a.test_index)
    assert a.n_train + a.n_test == task.domain_size
    assert a.n_train == round(0.3 * task.domain_size)
    assert task.domain[a.x_train, a.y_train].all() and task.domain[a.x_test, a.y_test].all()
    assert (task.table[a.x_train, a.y_train] == a.out_train).all()
    assert not (task.split(0.3, seed=8).train_index == a.train_index).all()


def test_task_roundtrips_through_json():
    import json

    task = get_task("modcond", p=P, noise=0.1, seed=2)
    back = Task.from_json(json.loads(json.dumps(task.to_json())))
    assert (back.table == task.table).all() and (back.domain == task.domain).all()
    assert back.spec == task.spec and back.name == task.name and back.noise == task.noise
    assert (back.split(0.3, 1).out_train == task.split(0.3, 1).out_train).all()


def test_every_builtin_builds():
    for name in BUILTIN:
        task = build_task(TaskSpec(name=name, p=11))
        valid = task.table[task.domain]
        assert valid.min() >= 0 and valid.max() < task.n
