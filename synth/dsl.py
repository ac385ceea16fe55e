"""Programs: immutable expression trees over the inputs x and y.

A :class:`Program` is a tree of operations of one *algebra*:

* **modular** (Z_n, n = p for the modular tasks): ``x``, ``y``, integer constants, ``a + b``,
  ``a - b``, ``a * b``, ``-a``, ``a ** k`` (small k ≥ 2), ``inv(a)`` (the modular inverse,
  a⁻¹ with a·a⁻¹ ≡ 1, defined where gcd(a, n) = 1) and ``ite(odd(c), a, b)``;
* **group** (S5, :mod:`synthcmp.groups`): ``x``, ``y``, ``a * b`` (composition) and ``inv(a)``.

Why trees of one small language: the same object must be (1) evaluated fast on whole
arrays of inputs — the search runs its own vectorized kernels, but every program it returns
is checked here, on numpy arrays, against the full training and test sets; (2) printed in
exactly the ``--expr`` syntax of :mod:`synthcmp.expr`, so a synthesized program can be fed
back as a task (``x / y`` is printed for ``x * inv(y)``, groups print multiplicatively with
``*`` and ``inv``); (3) turned into sympy for math notation; and (4) turned into a DAG of
subexpressions, the nodes the compare module probes inside a network (is there a neuron
that computes ``x + y``?). Structural equality makes shared subexpressions one node.

Undefined cells (``inv(0)``) evaluate to 0 here: any value is allowed by the contract,
because tasks put such cells outside their domain, and never crashing keeps probes simple.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import networkx as nx
import numpy as np
import sympy

from synthcmp import expr as expr_lang
from synthcmp import groups
from synthcmp.errors import TaskError
from synthcmp.tasks import Task

from .grammar import Grammar, default_grammar

LEAVES = ("x", "y", "const")
COMMUTATIVE = ("add", "mul")  # in the modular algebra; group composition is not commutative


@dataclass(frozen=True, eq=False)
class Algebra:
    """The meaning of the operations: arithmetic mod ``n``, or the group S5 (``n`` = 120)."""

    family: str  # "modular" | "group"
    n: int

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Algebra) and (self.family, self.n) == (other.family, other.n)

    def __hash__(self) -> int:
        return hash((self.family, self.n))

    @property
    def grammar(self) -> Grammar:
        return default_grammar(self.family)

    @property
    def inverse_table(self) -> np.ndarray:
        """``inv[a]``: a⁻¹ (0 where a has no inverse mod n); the group inverse for groups."""
        return _inverse_table(self.family, self.n)

    @property
    def mul_table(self) -> np.ndarray:
        """Group multiplication ``mul[a, b] = a·b`` (group algebra only)."""
        return groups.multiplication_table()


@cache
def _inverse_table(family: str, n: int) -> np.ndarray:
    if family == "group":
        return groups.inverses()
    inv = expr_lang.modular_inverses(n)
    return np.maximum(inv, 0)


def algebra_for(task: Task) -> Algebra:
    """Group tasks live in S5; every other task (modular, lookup, custom table) in Z_n."""
    return Algebra("group" if task.family == "group" else "modular", task.n)


# Python precedence of what to_text prints: + - < * / < unary - < ** < atoms and calls.
_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}


@dataclass(frozen=True, repr=False)
class Program:
    """An immutable expression tree; hashable, so equal subtrees are one DAG node."""

    op: str
    args: tuple[Program, ...] = ()
    value: int = 0  # the constant for "const", the exponent for "pow"
    algebra: Algebra = field(default=Algebra("modular", 97))
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.op, self.args, self.value, self.algebra)))

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"Program({self.to_text()!r})"

    # ---- structure -----------------------------------------------------------------
    @property
    def is_leaf(self) -> bool:
        return self.op in LEAVES

    def subprograms(self) -> list[Program]:
        """Every distinct subprogram, children before parents (post-order), root last."""
        seen: dict[Program, None] = {}

        def walk(p: Program) -> None:
            if p in seen:
                return
            for a in p.args:
                walk(a)
            seen[p] = None

        walk(self)
        return list(seen)

    def size(self) -> int:
        """Number of nodes of the tree (shared subtrees counted each time)."""
        return 1 + sum(a.size() for a in self.args)

    @property
    def bits(self) -> float:
        """Description length under the default grammar: −Σ log2 P(choice) over the tree."""
        return program_bits(self, self.algebra.grammar)

    # ---- semantics -----------------------------------------------------------------
    def evaluate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Outputs at every (x, y), vectorized over any shape; int64 in 0..n−1."""
        x = np.asarray(x, dtype=np.int64)
        y = np.asarray(y, dtype=np.int64)
        x, y = np.broadcast_arrays(x, y)
        memo: dict[Program, np.ndarray] = {}
        if self.algebra.family == "group":
            return _eval_group(self, x, y, memo)
        return _eval_modular(self, x, y, self.algebra.n, memo)

    # ---- forms ---------------------------------------------------------------------
    def to_text(self) -> str:
        """Plain ASCII in the ``--expr`` syntax (:func:`synthcmp.expr.parse` reads it back)."""
        return _text(self)

    def __str__(self) -> str:
        return self.to_text()

    def to_sympy(self) -> sympy.Expr:
        """A sympy expression: residues mod n for modular programs (``inv(a)`` is a⁻¹, ``ite``
        a Piecewise on the parity of its condition); non-commutative symbols for groups."""
        return _sympy(self)

    def dag(self) -> nx.DiGraph:
        """Subexpression DAG: nodes are subprograms (one node per distinct subtree), with
        attribute ``label`` (its text) and ``op``; edges go child → parent."""
        g = nx.DiGraph()
        for p in self.subprograms():
            g.add_node(p, label=p.to_text(), op=p.op)
            for a in p.args:
                g.add_edge(a, p)
        return g


def internal_nodes(program: Program) -> list[Program]:
    """The non-leaf subprograms (no x, y or constants), children first, *including the root*
    (for a leaf program the list is empty). These are the intermediates compare probes."""
    return [p for p in program.subprograms() if not p.is_leaf]


def program_bits(program: Program, grammar: Grammar) -> float:
    """L(P) = Σ over the tree's nodes of the bits of the choice that made the node."""
    total = 0.0
    stack = [program]
    while stack:
        p = stack.pop()
        if p.op == "const":
            total += grammar.const_bits(p.value)
        elif p.op == "pow":
            total += grammar.pow_bits(p.value)
        else:
            total += grammar.op_bits(p.op)
        stack.extend(p.args)
    return total


# ---------------------------------------------------------------------------------------
# Building programs


def leaf(op: str, algebra: Algebra, value: int = 0) -> Program:
    return Program(op, (), value, algebra)


def node(op: str, *args: Program, value: int = 0) -> Program:
    return Program(op, tuple(args), value, args[0].algebra)


def from_node(n: expr_lang.Node, algebra: Algebra) -> Program:
    """Convert a parsed ``--expr`` tree to a Program (``a / b`` becomes ``a * inv(b)``)."""
    if algebra.family == "group":
        return _from_node_group(n, algebra)
    p = algebra.n
    if n.op in ("x", "y"):
        return leaf(n.op, algebra)
    if n.op == "const":
        return leaf("const", algebra, n.value % p)
    args = [from_node(a, algebra) for a in n.args if a.op != "odd"]
    if n.op == "div":
        return node("mul", args[0], node("inv", args[1]))
    if n.op == "pow":
        k = n.value
        if k == 0:
            return leaf("const", algebra, 1 % p)
        return args[0] if k == 1 else node("pow", args[0], value=k)
    if n.op == "ite":
        cond = from_node(n.args[0].args[0], algebra)
        return node("ite", cond, args[0], args[1])
    if n.op in ("add", "sub", "mul", "neg", "inv"):
        return node(n.op, *args)
    raise TaskError(f"{n.op!r} has no meaning mod {p}")


def _from_node_group(n: expr_lang.Node, algebra: Algebra) -> Program:
    if n.op in ("x", "y"):
        return leaf(n.op, algebra)
    if n.op == "mul":
        return node("mul", *(_from_node_group(a, algebra) for a in n.args))
    if n.op == "inv":
        return node("inv", _from_node_group(n.args[0], algebra))
    if n.op == "div":
        a, b = (_from_node_group(a, algebra) for a in n.args)
        return node("mul", a, node("inv", b))
    if n.op == "pow" and n.value >= 1:
        base = _from_node_group(n.args[0], algebra)
        out = base
        for _ in range(n.value - 1):
            out = node("mul", out, base)
        return out
    raise TaskError(f"'{n.op}' has no meaning in a group (use * for composition and inv())")


def parse_program(text: str, task: Task) -> Program:
    """Read a program back from its text (as in a SynthResult) for ``task``'s algebra."""
    return from_node(expr_lang.parse(text), algebra_for(task))


# ---------------------------------------------------------------------------------------
# Evaluation


def _eval_modular(prog: Program, x: np.ndarray, y: np.ndarray, n: int, memo: dict) -> np.ndarray:
    got = memo.get(prog)
    if got is not None:
        return got
    op = prog.op
    if op == "x":
        out = x % n
    elif op == "y":
        out = y % n
    elif op == "const":
        out = np.full(x.shape, prog.value % n, np.int64)
    elif op == "ite":
        c, a, b = (_eval_modular(p, x, y, n, memo) for p in prog.args)
        out = np.where(c % 2 == 1, a, b)
    else:
        a = _eval_modular(prog.args[0], x, y, n, memo)
        if op == "neg":
            out = (-a) % n
        elif op == "inv":
            out = prog.algebra.inverse_table[a]
        elif op == "pow":
            out = np.ones_like(a) % n
            base, k = a, prog.value
            while k:
                if k & 1:
                    out = out * base % n
                base = base * base % n
                k >>= 1
        else:
            b = _eval_modular(prog.args[1], x, y, n, memo)
            if op == "add":
                out = (a + b) % n
            elif op == "sub":
                out = (a - b) % n
            elif op == "mul":
                out = a * b % n
            else:
                raise TaskError(f"{op!r} has no meaning mod {n}")
    memo[prog] = out
    return out


def _eval_group(prog: Program, x: np.ndarray, y: np.ndarray, memo: dict) -> np.ndarray:
    got = memo.get(prog)
    if got is not None:
        return got
    if prog.op == "x":
        out = x
    elif prog.op == "y":
        out = y
    elif prog.op == "mul":
        a, b = (_eval_group(p, x, y, memo) for p in prog.args)
        out = prog.algebra.mul_table[a, b]
    elif prog.op == "inv":
        out = prog.algebra.inverse_table[_eval_group(prog.args[0], x, y, memo)]
    else:
        raise TaskError(f"'{prog.op}' has no meaning in a group")
    memo[prog] = out
    return out


# ---------------------------------------------------------------------------------------
# Text and sympy


def _prec(p: Program) -> int:
    if p.op == "mul" and _is_div(p):
        return _PREC["div"]
    return _PREC.get(p.op, 5)


def _is_div(p: Program) -> bool:
    """``a * inv(b)`` prints as ``a / b`` in the modular algebra (groups keep ``inv``)."""
    return p.op == "mul" and p.algebra.family == "modular" and p.args[1].op == "inv"


def _wrap(p: Program, paren: bool) -> str:
    s = _text(p)
    return f"({s})" if paren else s


def _text(p: Program) -> str:
    op = p.op
    if op in ("x", "y"):
        return op
    if op == "const":
        return str(p.value)
    if op == "inv":
        return f"inv({_text(p.args[0])})"
    if op == "ite":
        c, a, b = (_text(q) for q in p.args)
        return f"ite(odd({c}), {a}, {b})"
    if op == "neg":
        return "-" + _wrap(p.args[0], _prec(p.args[0]) < _PREC["neg"])
    if op == "pow":
        return _wrap(p.args[0], _prec(p.args[0]) < 5) + f"**{p.value}"
    a, b = p.args
    mine = _prec(p)
    left = _wrap(a, _prec(a) < mine)
    if _is_div(p):
        return f"{left} / {_wrap(b.args[0], _prec(b.args[0]) <= mine)}"
    symbol = {"add": "+", "sub": "-", "mul": "*"}[op]
    # a right operand of equal precedence keeps its parentheses even where the operation is
    # associative: a + (b + c) is another tree (another circuit) than a + b + c, and the
    # text must read back as the same tree
    return f"{left} {symbol} {_wrap(b, _prec(b) <= mine)}"


_X, _Y = sympy.symbols("x y", integer=True)
_XG, _YG = sympy.symbols("x y", commutative=False)


def _sympy(p: Program) -> sympy.Expr:
    group = p.algebra.family == "group"
    op = p.op
    if op in ("x", "y"):
        return {"x": _XG, "y": _YG}[op] if group else {"x": _X, "y": _Y}[op]
    if op == "const":
        return sympy.Integer(p.value)
    args = [_sympy(a) for a in p.args]
    if op == "add":
        return args[0] + args[1]
    if op == "sub":
        return args[0] - args[1]
    if op == "mul":
        return args[0] * args[1]
    if op == "neg":
        return -args[0]
    if op == "pow":
        return args[0] ** p.value
    if op == "inv":
        return sympy.Pow(args[0], -1)
    if op == "ite":
        c, a, b = args
        return sympy.Piecewise((a, sympy.Eq(sympy.Mod(c, 2), 1)), (b, True))
    raise TaskError(f"cannot convert {op!r} to sympy")
