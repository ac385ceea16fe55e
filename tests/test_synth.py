"""The synthesizer: the prior is a proper code, the search is exhaustive and ordered, MDL
picks the right explanation (program, program + exceptions, or the table)."""

from __future__ import annotations

import itertools
import json

import networkx as nx
import numpy as np
import pytest

from synth import SynthConfig, SynthResult, default_grammar, parse_program, synthesize
from synth.grammar import GROUP, MODULAR, elias_gamma_bits
from synth.mdl import data_bits, table_bits
from synth.search import Search, search
from taskcore.language import dag, node, to_sympy
from taskcore.registry import POWER_TASKS, expr_task, get_task


def bits(program, task) -> float:
    return default_grammar(task.family).bits(program)


def evaluate(program, task, x, y):
    return task.algebra.values(program, x, y)

# ---------------------------------------------------------------------------------------
# the prior


def test_grammar_is_a_proper_code():
    for g in (MODULAR, GROUP):
        assert g.kraft_sum() <= 1.0
        assert g.rows()[-1]["probability"] == pytest.approx(g.kraft_sum())
    # Elias gamma: prefix code over the positive integers, Σ 2^−γ(m) → 1
    assert sum(2.0 ** -elias_gamma_bits(m) for m in range(1, 1 << 16)) <= 1.0
    assert [elias_gamma_bits(m) for m in (1, 2, 3, 4, 7, 8)] == [1, 3, 3, 5, 5, 7]


def test_natural_programs_are_short():
    t = get_task("modadd", p=23)
    cost = {s: bits(parse_program(s, t), t) for s in ("x + y", "x - -y", "x**2", "x * x", "x / y")}
    assert cost["x + y"] < cost["x - -y"]
    assert cost["x**2"] < cost["x * x"]
    assert cost["x / y"] == bits(parse_program("x * inv(y)", t), t)
    assert parse_program("x * inv(y)", t) == parse_program("x / y", t)


# ---------------------------------------------------------------------------------------
# programs


CASES = [
    "x + y", "x - y", "x / y", "x**2 + y**2", "x**2 + x * y + y**2", "x**3 + x * y**2 + y",
    "ite(odd(y), x / y, x - y)", "x - (y - x)", "x * (y / x)", "-x**2", "(-x)**2", "x - -3",
    "(x + y)**2 - x * y", "inv(x + 1) * 5", "x + (y + x)", "ite(odd(x + y), x, 7)",
]  # fmt: skip


@pytest.mark.parametrize("text", CASES)
def test_text_round_trips_and_tabulates_as_expr_task(text):
    p = 23
    program = parse_program(text, get_task("modadd", p=p))
    assert parse_program(program.to_text(), get_task("modadd", p=p)) == program
    task = expr_task(program.to_text(), p)  # the program fed back as a custom task
    x, y = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    out = evaluate(program, task, x, y)
    assert out.shape == (p, p) and out.dtype == np.int64
    assert np.array_equal(out[task.domain], task.table[task.domain])


def test_group_programs_match_the_s5_tasks():
    for name in ("s5mul", "s5div", "s5conj"):
        task = get_task(name)
        program = parse_program(task.expr, task)
        assert program.to_text() == task.expr
        x, y = task.pairs()
        assert np.array_equal(evaluate(program, task, x, y), task.table[x, y])


def test_dag_shares_subexpressions_and_lists_internal_nodes():
    t = get_task("modadd", p=23)
    program = parse_program("(x + y)**2 + (x + y)", t)
    g = dag(program)
    assert nx.is_directed_acyclic_graph(g)
    labels = sorted(nx.get_node_attributes(g, "label").values())
    assert labels == sorted(["x", "y", "x + y", "(x + y)**2", "(x + y)**2 + (x + y)"])
    s = parse_program("x + y", t)
    assert set(g.successors(s)) == {parse_program("(x + y)**2", t), program}
    inner = program.internal_nodes()
    assert inner[-1] == program and all(not p.is_leaf for p in inner) and len(inner) == 3
    x = np.arange(23)
    for sub in g:  # every node is a program of its own
        assert evaluate(sub, t, x, x).shape == (23,)


def test_undefined_cells_never_crash_and_sympy_reads():
    t = get_task("moddiv", p=7)
    program = parse_program("x / y", t)
    assert evaluate(program, t, np.array([3]), np.array([0])).shape == (1,)
    assert str(to_sympy(parse_program("x**2 + y**2", t))) == "x**2 + y**2"


# ---------------------------------------------------------------------------------------
# the search


def _functions_up_to(task, split, budget):
    """Brute force: every tree of the modular grammar (no ite) with L(P) ≤ bits, as the set of
    functions on the training inputs with each one's cheapest cost."""
    g = default_grammar(task.family)
    x, y = split.x_train, split.y_train
    by_cost: dict[float, list] = {}
    leaves = [parse_program(s, task) for s in ("x", "y")]
    leaves += [parse_program(str(c), task) for c in range(task.n)]
    for leaf in leaves:
        by_cost.setdefault(bits(leaf, task), []).append(leaf)

    costs = sorted(by_cost)
    # grow by increasing cost: every program is an op over strictly cheaper programs
    step = 0.25
    level = min(costs)
    while level <= budget:
        made = []
        for name in ("neg", "inv"):
            for a in by_cost.get(level - g.op_bits(name), []):
                made.append(node(name, a))
        for k in range(2, g.max_exponent + 1):
            for a in by_cost.get(level - g.pow_bits(k), []):
                made.append(node("pow", a, value=k))
        for name in ("add", "sub", "mul"):
            rest = level - g.op_bits(name)
            for ca in list(by_cost):
                for a, b in itertools.product(by_cost.get(ca, []), by_cost.get(rest - ca, [])):
                    made.append(node(name, a, b))
        for m in made:
            m = parse_program(m.to_text(), task)  # canonical: a * inv(b) is a / b
            by_cost.setdefault(bits(m, task), []).append(m)
        level += step
    best: dict[tuple, float] = {}
    for c, programs in by_cost.items():
        if c > budget:
            continue
        for p in programs:
            key = tuple(evaluate(p, task, x, y))
            best[key] = min(best.get(key, c), c)
    return best


def test_search_agrees_with_brute_force_and_is_ordered():
    task = get_task("modquad", p=5)
    split = task.split(0.5, seed=1)
    budget = 18.0
    config = SynthConfig(top_k=10**6, max_bits=budget, sample_size=64)  # sample = all pairs
    search = Search(task, split, config, default_grammar(task.family))
    search.run(None)
    costs = search.cost[: search.size] / 4
    assert np.all(np.diff(costs) >= 0)  # programs come out in non-decreasing bits
    found = {}
    for i in range(search.size):
        p = search.program(i)
        assert bits(p, task) == costs[i]
        key = tuple(evaluate(p, task, split.x_train, split.y_train))
        assert key not in found  # observational equivalence: one program per function
        found[key] = costs[i]
    assert found == _functions_up_to(task, split, budget)


@pytest.mark.parametrize("name", POWER_TASKS)
def test_power_tasks_are_solved(name):
    task = get_task(name, p=23)
    result = synthesize(task, task.split(0.3, seed=0), SynthConfig(top_k=1))
    best = result.best
    assert best.kind == "program" and best.exact and best.test_acc == 1.0
    assert result.stats.stopped == "solutions"
    # the program is a task of its own with the same table (on the task's domain)
    again = expr_task(best.expr, 23)
    both = task.domain & again.domain
    assert np.array_equal(again.table[both], task.table[both])


@pytest.mark.parametrize(
    "text, p", [("x*y + 3*x", 31), ("x**3 - y", 23), ("(x + 2*y)**2", 29), ("x / (y + 1)", 19)]
)
def test_custom_expr_tasks_are_solved(text, p):
    task = expr_task(text, p)
    result = synthesize(task, task.split(0.4, seed=0), SynthConfig(top_k=1))
    assert result.best.exact and result.best.test_acc == 1.0
    assert result.best.program_bits <= bits(parse_program(text, task), task)


@pytest.mark.parametrize("name", ["s5mul", "s5div", "s5conj"])
def test_group_tasks_are_solved(name):
    task = get_task(name)
    result = synthesize(task, task.split(0.3, seed=0), SynthConfig(top_k=1))
    assert result.best.exact and result.best.test_acc == 1.0
    assert "*" in result.best.expr or name == "s5mul"


def test_k_solutions_come_out_in_order():
    task = get_task("modquad", p=23)
    split = task.split(0.3, seed=0)
    outcome = search(task, split, SynthConfig(top_k=4), default_grammar(task.family))
    assert len(outcome.solutions) == 4 and len({p.to_text() for p in outcome.solutions}) == 4
    costs = [bits(p, task) for p in outcome.solutions]
    assert costs == sorted(costs)


def test_ranking_shows_each_function_once():
    """x + y, x − (−y) and 0 + (x + y) are one function: the ranking keeps the cheapest."""
    task = get_task("modadd", p=23)
    x, y = task.pairs()
    result = synthesize(task, task.split(0.3, seed=0), SynthConfig(top_k=5))
    programs = [parse_program(r.expr, task) for r in result.programs if r.kind == "program"]
    tables = {evaluate(p, task, x, y).tobytes() for p in programs}
    assert len(tables) == len(programs) and result.best.expr == "x + y"


# ---------------------------------------------------------------------------------------
# MDL


def test_lookup_is_answered_by_the_table():
    task = get_task("lookup", p=23)
    result = synthesize(task, task.split(0.3, seed=0), SynthConfig(max_bits=24))
    assert result.best.kind == "table"
    assert result.best.bits == pytest.approx(table_bits(result.n_train, 23))
    assert any(r.kind == "program" for r in result.programs)  # near misses are ranked too


def test_noisy_modadd_is_x_plus_y_with_exceptions():
    task = get_task("modadd", p=23, noise=0.05)
    split = task.split(0.3, seed=0)
    result = synthesize(task, split, SynthConfig(max_bits=20))
    best = result.best
    assert best.expr == "x + y" and best.kind == "program"
    wrong = split.n_noisy
    assert wrong == round(0.05 * split.n_train) > 0
    assert (split.clean_train == task.table[split.x_train, split.y_train]).all()
    assert (split.out_test == task.table[split.x_test, split.y_test]).all()  # test stays clean
    assert best.exceptions == wrong
    assert best.bits == pytest.approx(best.program_bits + data_bits(wrong, split.n_train, 23))
    assert best.bits < table_bits(split.n_train, 23)


def test_data_bits_grow_with_exceptions():
    costs = [data_bits(k, 1000, 97) for k in range(0, 400)]
    assert all(b > a for a, b in zip(costs, costs[1:], strict=False))


# ---------------------------------------------------------------------------------------
# budgets, progress, JSON


@pytest.mark.parametrize(
    "config, reason",
    [
        (SynthConfig(timeout_s=0.0), "timeout"),
        (SynthConfig(max_bits=12.0), "max_bits"),
        (SynthConfig(max_memory_mb=0.05), "memory"),
    ],
)
def test_budgets_stop_cleanly_with_a_partial_result(config, reason):
    task = get_task("modquadx", p=23)
    result = synthesize(task, task.split(0.3, seed=0), config)
    assert result.stats.stopped == reason
    assert result.programs and result.programs[-1].bits >= result.programs[0].bits
    assert any(r.kind == "table" for r in result.programs)


def test_progress_and_json_round_trip():
    task = get_task("modsq", p=23)
    seen = []
    result = synthesize(task, task.split(0.3, seed=0), SynthConfig(top_k=2), seen.append)
    assert seen and [s.bits for s in seen] == sorted(s.bits for s in seen)
    assert seen[-1].programs <= result.stats.programs
    doc = json.loads(json.dumps(result.to_json()))
    assert SynthResult.from_json(doc) == result
    assert {"task", "p", "programs", "stats"} <= set(doc)
    assert {"expr", "kind", "bits", "exceptions", "train_acc", "test_acc"} <= set(
        doc["programs"][0]
    )
    assert {"seconds", "programs", "stopped"} <= set(doc["stats"])
    assert [p["bits"] for p in doc["programs"]] == sorted(p["bits"] for p in doc["programs"])


def test_synth_imports_only_the_task_core():
    import subprocess
    import sys

    code = (
        "import sys, synth; bad = [m for m in sys.modules if m in "
        "('synthcmp.ui', 'synthcmp.cli', 'torch', 'rich', 'click') or m.startswith('neural')]; "
        "print(bad); assert not bad"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


@pytest.mark.parametrize("text, p", [("x * y + 1", 257), ("x - 2 * y", 131)])
def test_wide_symbol_ranges(text, p):
    """p > 128 needs 16-bit sums, p > 256 16-bit storage: the kernels must stay exact."""
    task = expr_task(text, p)
    result = synthesize(task, task.split(0.05, seed=0), SynthConfig(top_k=1))
    assert result.best.exact and result.best.test_acc == 1.0


def test_table_file_task(tmp_path):
    from taskcore.tablefile import table_task

    rows = ["x,y,out"] + [f"{a},{b},{(a * b + a) % 7}" for a in range(7) for b in range(7)]
    path = tmp_path / "f.csv"
    path.write_text("\n".join(rows))
    task = table_task(path)
    result = synthesize(task, task.split(0.6, seed=0), SynthConfig(top_k=1))
    assert result.best.kind == "program" and result.best.test_acc == 1.0
