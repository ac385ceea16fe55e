"""Custom tasks: the --expr language (safe, exact) and --table files (validated)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from taskcore.errors import TaskError
from taskcore.language import parse
from taskcore.registry import expr_task, get_task
from taskcore.tablefile import table_task

P = 13


def test_expr_matches_python_arithmetic():
    task = expr_task("x*y + 3*x - (y**3) + 5", P)
    for x, y in itertools.product(range(P), range(P)):
        assert task.table[x, y] == (x * y + 3 * x - y**3 + 5) % P


def test_expr_division_and_inverse_define_the_domain():
    task = expr_task("x / y + inv(x + 1)", P)
    for x, y in itertools.product(range(P), range(P)):
        defined = y != 0 and (x + 1) % P != 0
        assert task.domain[x, y] == defined
        if defined:
            assert task.table[x, y] == (x * pow(y, -1, P) + pow(x + 1, -1, P)) % P


def test_expr_of_a_builtin_is_the_builtin():
    assert (expr_task("x**3 + x*y**2 + y", P).table == get_task("modcube2", p=P).table).all()
    cond = expr_task("ite(odd(y), x / y, x - y)", P)
    builtin = get_task("modcond", p=P)
    assert (cond.table[builtin.domain] == builtin.table[builtin.domain]).all()


def test_negative_literals_and_unary_minus():
    task = expr_task("-x + -3", P)
    assert task.table[2, 0] == (-2 - 3) % P


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "x.__class__",
        "open('/etc/passwd')",
        "lambda: 1",
        "[x for x in y]",
        "x if y else 1",
        "x ** y",
        "x ** 1000",
        "x ** -1",
        "x and y",
        "x // y",
        "x % y",
        "1.5 * x",
        "'a'",
        "z + 1",
        "x +",
        "",
        "ite(x, y, 1)",
        "odd(x)",
        "inv(x, y)",
        "-" * 60 + "x",
        "x+" * 400 + "x",
    ],
)
def test_unsafe_or_malformed_expressions_are_refused(text):
    with pytest.raises(TaskError):
        parse(text)


def test_division_needs_a_prime():
    with pytest.raises(TaskError, match="prime"):
        expr_task("x / y", 12)
    assert expr_task("x * y", 12).n == 12  # no inverse, any modulus


def write(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_table_rows_and_matrix_agree(tmp_path):
    n = 4
    rows = "x,y,out\n" + "".join(f"{x},{y},{(x * y + 1) % n}\n" for x in range(n) for y in range(n))
    matrix = "".join(",".join(str((x * y + 1) % n) for y in range(n)) + "\n" for x in range(n))
    a, b = table_task(write(tmp_path, rows, "a.csv")), table_task(write(tmp_path, matrix, "b.csv"))
    assert a.n == b.n == n and (a.table == b.table).all()
    assert a.table[2, 3] == 3 and a.name == "a"


@pytest.mark.parametrize(
    "text, message",
    [
        ("x,y,out\n0,0,1\n0,1,1\n1,0,0\n", "missing cells"),  # (1, 1) absent
        ("x,y,out\n0,0\n", "3 cells"),
        ("0,1\n1,0\n0,1\n", "shape"),
        ("0,1,\n1,0,1\n", "missing cells"),
        ("0,5\n1,0\n", "out of range"),
        ("0,-1\n1,0\n", "out of range"),
        ("a,b\nc,d\n", "non-integer"),
        ("", "empty"),
        ("x,y,out\n0,0,1\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n", "more than once"),
    ],
)
def test_bad_tables_are_refused(tmp_path, text, message):
    with pytest.raises(TaskError, match=message):
        table_task(write(tmp_path, text))


def test_missing_table_file(tmp_path):
    with pytest.raises(TaskError, match="cannot read"):
        table_task(tmp_path / "nope.csv")


def test_matrix_values_are_kept_exactly(tmp_path):
    rng = np.random.default_rng(0)
    m = rng.integers(0, 5, size=(5, 5))
    path = write(tmp_path, "\n".join(",".join(map(str, r)) for r in m))
    assert (table_task(path).table == m).all()
