"""Candidate nodes: the program values the network is read through, proposed by the programs.

A circuit reads the logits through a node u(x, y) (:mod:`compare.logits`) and the embedding
through a function e(x) of one input (:mod:`compare.embedding`). Neither is a fixed list:
the synthesizer has already found the short programs that fit the data, and their values
and subexpressions are exactly the hypotheses worth testing. So:

* **logit nodes** — every candidate program's value and each of its subexpressions that
  depends on *both* inputs (``x + y`` inside ``x + y + 5``; ``x**2 + y**2``; ``x * y`` inside
  ``x**3 + x*y``), beside the fixed forms ±x ± y (x·y, x/y … in discrete logs; the words of
  a group), each in every basis the task has;
* **embedding nodes** — ``x`` and every one-input subexpression of the programs, written in
  x (``y**2`` is the same function as ``x**2`` of the other input): x², x³, x⁻¹, … and, in the
  discrete-log basis, log x.

Each node is priced by its own bits under the task's grammar (the canonical form the
synthesizer prices), so choosing a long node costs the circuit what the program would pay.

The **near misses** of a program (f + 1, 2·f, inv(f); in a group inv(f), f·f and f with x
and y swapped) are the controls evidence must beat; a node's controls are the same less
the shift, which the logit model's phase absorbs (u and u + 1 read the same logits).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from compare.basis import Basis
from compare.logits import FORMS, Node, candidate_bases
from taskcore.errors import TaskError
from taskcore.events import BasisKind
from taskcore.language import Expr
from taskcore.table import Task

EMBEDDING_DEFAULTS = ("x", "x**2", "x**3", "inv(x)")  # besides the programs' own (mod p)


def program_expr(text: str, task: Task) -> Expr | None:
    """The canonical program of ``text`` (None if it is not a program of this task)."""
    from synth import parse_program

    try:
        return parse_program(text, task)
    except TaskError:
        return None


def node_bits(e: Expr, task: Task) -> float:
    from synth.core import program_bits

    return program_bits(e, task.algebra)


def rename(e: Expr, names: dict[str, str]) -> Expr:
    """``e`` with its variables renamed (``{"y": "x"}`` turns y² into x²)."""
    if e.op in names:
        return Expr(names[e.op], (), e.value)
    return Expr(e.op, tuple(rename(a, names) for a in e.args), e.value)


def depends_on(e: Expr) -> set[str]:
    return {v for v in ("x", "y") if e.uses(v)}


def logit_nodes(task: Task, programs: Iterable[str]) -> list[Node]:
    """The fixed forms, then every program's two-input values, in each of the task's bases;
    one node per (basis, canonical text)."""
    found: dict[str, Expr] = {}
    for text in programs:
        e = program_expr(text, task)
        if e is None:
            continue
        for sub in e.subexpressions():
            if depends_on(sub) == {"x", "y"}:
                found.setdefault(sub.to_text(), sub)
    nodes: list[Node] = []
    for basis in candidate_bases(task):
        texts = dict.fromkeys([*FORMS[basis.kind], *found])
        nodes += [node for text in texts if (node := make_node(text, basis, task)) is not None]
    return nodes


def embedding_nodes(task: Task, programs: Iterable[str], basis: Basis) -> list[Node]:
    """``x`` and the programs' one-input subexpressions written in x, on ``basis``. A group's
    embedding is read in its own elements only (``x``)."""
    if basis.kind == BasisKind.IRREPS:
        return [make_node("x", basis, task)]
    texts = dict.fromkeys(["x", *EMBEDDING_DEFAULTS])
    for text in programs:
        e = program_expr(text, task)
        if e is None:
            continue
        for sub in e.subexpressions():
            if len(depends_on(sub)) == 1:
                texts.setdefault(rename(sub, {"y": "x"}).to_text())
    return [node for text in texts if (node := make_node(text, basis, task)) is not None]


def make_node(text: str, basis: Basis, task: Task) -> Node | None:
    e = program_expr(text, task)
    return None if e is None else Node(basis, e.to_text(), node_bits(e, task))


def near_misses(program: Expr, task: Task, shift: bool = True) -> list[str]:
    """The controls of a program f, as text: f + 1 (unless ``shift`` is False), 2·f and
    inv(f) mod n; in a group inv(f), f·f and f with x and y swapped (x·y against y·x).
    A "near miss" equal to f on the domain is no control and is left out."""
    from synth import parse_program

    text = program.to_text()
    if task.algebra.group is None:
        controls = [f"({text}) + 1"] if shift else []
        controls += [f"2 * ({text})", f"inv({text})"]
    else:
        swapped = rename(program, {"x": "y", "y": "x"}).to_text()
        controls = [f"inv({text})", f"({text}) * ({text})", swapped]
    x, y = task.pairs()
    mine = task.algebra.values(program, x, y)
    out = []
    for control in controls:
        parsed = parse_program(control, task)
        if not np.array_equal(task.algebra.values(parsed, x, y), mine):
            out.append(parsed.to_text())
    return out


def user_node(text: str, task: Task) -> Expr:
    """A node the user names (``--node``): parsed, in canonical form, depending on both
    inputs — or a :class:`TaskError` saying why it cannot be one."""
    from synth import parse_program

    e = parse_program(text, task)  # raises TaskError with the parser's message
    if depends_on(e) != {"x", "y"}:
        raise TaskError(f"--node {text!r} must depend on both x and y: the logits are read "
                        "through a value of the whole input")  # fmt: skip
    x, y = np.meshgrid(np.arange(task.n), np.arange(task.n), indexing="ij")
    if not (task.algebra.evaluate(e, x, y)[1] & task.domain).any():
        raise TaskError(f"--node {text!r} is not defined on any input of the task")
    return e
