"""The one expression language: what ``--expr`` reads, what the built-in tasks are defined in,
what the synthesizer enumerates and prints, and what compare probes inside a network.

A program is an :class:`Expr`, an immutable tree over the two inputs ``x`` and ``y``::

    x*y + 3*x        x**2 + y**2        x / y        ite(odd(y), x / y, x - y)

Grammar (a strict subset of Python's expression syntax, so Python's own parser reads it)::

    e := x | y | INT | e + e | e - e | e * e | e / e | e ** INT | -e | +e | (e)
       | inv(e) | ite(odd(e), e, e)

What the operations *mean* is the algebra's business (:mod:`taskcore.algebra`): mod n they
are modular arithmetic (``inv`` the modular inverse, ``a / b = a · b⁻¹``); in a group ``*`` is
composition and ``inv`` the group inverse. This module only reads, builds and prints trees.

Tree ops: ``x``, ``y``, ``const`` (``value`` holds the integer), ``add``, ``sub``, ``mul``,
``div``, ``neg``, ``pow`` (``value`` holds the exponent), ``inv`` and ``ite`` (args: the value
whose parity is the condition, then the two branches — ``odd`` is part of ``ite``, not a node).

Safety: user text is parsed with :func:`ast.parse` and every node is checked against a
whitelist before anything is computed; nothing is ever passed to ``eval`` or
``sympy.sympify``. Exponents must be small literals and the text and nesting are bounded, so
no expression can ask for an unbounded amount of work.

One printer serves two notations: plain ASCII in the ``--expr`` syntax (:meth:`Expr.to_text`,
which :func:`parse` reads back to the same tree) and math notation for people
(:meth:`Expr.pretty`: ``x² + x·y``, ``x/y``, ``x·y·x⁻¹``, ``x/y if y odd else x − y``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from taskcore.errors import TaskError

MAX_EXPR_CHARS = 500
MAX_EXPONENT = 64
MAX_DEPTH = 40
MAX_LITERAL = 10**9

LEAVES = ("x", "y", "const")
FUNCTIONS = {"inv": 1, "ite": 3, "odd": 1}


@dataclass(frozen=True, repr=False)
class Expr:
    """An immutable expression tree; hashable, so equal subtrees are one DAG node."""

    op: str
    args: tuple[Expr, ...] = ()
    value: int = 0  # the integer of "const", the exponent of "pow"
    _hash: int = field(default=0, init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.op, self.args, self.value)))

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"Expr({self.to_text()!r})"

    def __str__(self) -> str:
        return self.to_text()

    @property
    def is_leaf(self) -> bool:
        return self.op in LEAVES

    def uses(self, op: str) -> bool:
        return self.op == op or any(a.uses(op) for a in self.args)

    def subexpressions(self) -> list[Expr]:
        """Every distinct subtree, children before parents (post-order), the root last."""
        seen: dict[Expr, None] = {}

        def walk(e: Expr) -> None:
            if e not in seen:
                for a in e.args:
                    walk(a)
                seen[e] = None

        walk(self)
        return list(seen)

    def internal_nodes(self) -> list[Expr]:
        """The non-leaf subtrees, children first, the root included (empty for a leaf).
        These are the intermediate values compare looks for inside a network."""
        return [e for e in self.subexpressions() if not e.is_leaf]

    def to_text(self) -> str:
        """Plain ASCII in the ``--expr`` syntax; :func:`parse` reads it back to this tree."""
        return _render(self, ASCII)

    def pretty(self) -> str:
        """Math notation for people: ``x² + y²``, ``x/y``, ``x·y⁻¹``."""
        return _render(self, MATH)


def leaf(op: str, value: int = 0) -> Expr:
    return Expr(op, (), value)


def node(op: str, *args: Expr, value: int = 0) -> Expr:
    return Expr(op, tuple(args), value)


# ---------------------------------------------------------------------------------------
# Parsing

_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div"}


def parse(text: str) -> Expr:
    """Parse ``text`` into an :class:`Expr`, or raise :class:`TaskError` saying what is wrong."""
    if not isinstance(text, str):
        raise TaskError("an expression must be text")
    if len(text) > MAX_EXPR_CHARS:
        raise TaskError(f"expression is longer than {MAX_EXPR_CHARS} characters")
    if not text.strip():
        raise TaskError("expression is empty")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError) as err:
        msg = getattr(err, "msg", None) or str(err)
        raise TaskError(f"cannot parse expression {text!r}: {msg}") from None
    except RecursionError:
        raise TaskError(f"expression is nested deeper than {MAX_DEPTH} levels") from None
    return _convert(tree.body, 0)


def _convert(n: ast.AST, depth: int) -> Expr:
    if depth > MAX_DEPTH:
        raise TaskError(f"expression is nested deeper than {MAX_DEPTH} levels")
    d = depth + 1
    if isinstance(n, ast.Name):
        if n.id in ("x", "y"):
            return leaf(n.id)
        raise TaskError(f"unknown name {n.id!r}: only x and y are variables")
    if isinstance(n, ast.Constant):
        if isinstance(n.value, bool) or not isinstance(n.value, int):
            raise TaskError(f"only integer literals are allowed, not {n.value!r}")
        if n.value > MAX_LITERAL:
            raise TaskError(f"literal {n.value} is larger than {MAX_LITERAL}")
        return leaf("const", n.value)
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
        inner = _convert(n.operand, d)
        return node("neg", inner) if isinstance(n.op, ast.USub) else inner
    if isinstance(n, ast.BinOp):
        if isinstance(n.op, ast.Pow):
            k = n.right
            if not (isinstance(k, ast.Constant) and type(k.value) is int):
                raise TaskError("an exponent must be an integer literal, e.g. x**2")
            if not 0 <= k.value <= MAX_EXPONENT:
                raise TaskError(
                    f"exponent {k.value} is outside 0..{MAX_EXPONENT} (use inv() for inverses)"
                )
            return node("pow", _convert(n.left, d), value=k.value)
        op = _BINOPS.get(type(n.op))
        if op is None:
            raise TaskError(f"operator {type(n.op).__name__} is not allowed (use + - * / **)")
        return node(op, _convert(n.left, d), _convert(n.right, d))
    if isinstance(n, ast.Call):
        name = n.func.id if isinstance(n.func, ast.Name) else None
        if name not in FUNCTIONS or n.keywords:
            shown = name or ast.unparse(n.func)
            raise TaskError(f"function {shown!r} is not allowed (only inv, ite, odd)")
        if len(n.args) != FUNCTIONS[name]:
            raise TaskError(f"{name}() takes {FUNCTIONS[name]} argument(s)")
        if name == "odd":
            raise TaskError("odd() is a condition; use it inside ite(odd(...), a, b)")
        if name == "inv":
            return node("inv", _convert(n.args[0], d))
        cond = n.args[0]
        is_odd = (
            isinstance(cond, ast.Call) and isinstance(cond.func, ast.Name)
            and cond.func.id == "odd" and len(cond.args) == 1 and not cond.keywords
        )  # fmt: skip
        if not is_odd:
            raise TaskError("the condition of ite() must be odd(...), e.g. ite(odd(y), x, y)")
        return node("ite", _convert(cond.args[0], d + 1), _convert(n.args[1], d),
                    _convert(n.args[2], d))  # fmt: skip
    raise TaskError(f"{ast.unparse(n)!r} is not allowed in an expression")


# ---------------------------------------------------------------------------------------
# Printing: one precedence printer, two notations

# Python precedence: + - < * / < unary - < ** < atoms and calls
_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


@dataclass(frozen=True)
class Notation:
    add: str
    sub: str
    mul: str
    div: str
    neg: str
    postfix_inverse: bool  # a⁻¹ rather than inv(a)
    superscript_powers: bool  # x² rather than x**2
    python_ite: bool  # ite(odd(c), a, b) rather than "a if c odd else b"


ASCII = Notation(" + ", " - ", " * ", " / ", "-", False, False, True)
MATH = Notation(" + ", " − ", "·", "/", "−", True, True, False)


def _prec(e: Expr) -> int:
    return _PREC.get(e.op, 5)


def _render(e: Expr, nt: Notation) -> str:
    op = e.op
    if op in ("x", "y"):
        return op
    if op == "const":
        return str(e.value)

    def wrap(child: Expr, paren: bool) -> str:
        s = _render(child, nt)
        return f"({s})" if paren else s

    if op == "inv":
        if nt.postfix_inverse:
            return wrap(e.args[0], _prec(e.args[0]) < 5) + "⁻¹"
        return f"inv({_render(e.args[0], nt)})"
    if op == "ite":
        c, a, b = (_render(q, nt) for q in e.args)
        return f"ite(odd({c}), {a}, {b})" if nt.python_ite else f"{a} if {c} odd else {b}"
    if op == "neg":
        return nt.neg + wrap(e.args[0], _prec(e.args[0]) < _PREC["neg"])
    if op == "pow":
        base = wrap(e.args[0], _prec(e.args[0]) < 5)
        return base + (str(e.value).translate(_SUPERSCRIPT) if nt.superscript_powers
                       else f"**{e.value}")  # fmt: skip
    a, b = e.args
    mine = _prec(e)
    # a right operand of equal precedence keeps its parentheses even where the operation is
    # associative: a + (b + c) is another tree (another circuit) than a + b + c, and the
    # text must read back as the same tree
    return f"{wrap(a, _prec(a) < mine)}{getattr(nt, op)}{wrap(b, _prec(b) <= mine)}"


# ---------------------------------------------------------------------------------------
# Other forms


def to_sympy(e: Expr, group: bool = False):
    """A sympy expression: residues for modular programs (``inv(a)`` is a⁻¹, ``ite`` a
    Piecewise on the parity of its condition); non-commutative symbols in a group."""
    import sympy

    if e.op in ("x", "y"):
        return sympy.Symbol(e.op, commutative=False) if group else sympy.Symbol(e.op, integer=True)
    if e.op == "const":
        return sympy.Integer(e.value)
    a = [to_sympy(q, group) for q in e.args]
    forms = {
        "add": lambda: a[0] + a[1],
        "sub": lambda: a[0] - a[1],
        "mul": lambda: a[0] * a[1],
        "div": lambda: a[0] * sympy.Pow(a[1], -1),
        "neg": lambda: -a[0],
        "pow": lambda: a[0] ** e.value,
        "inv": lambda: sympy.Pow(a[0], -1),
        "ite": lambda: sympy.Piecewise((a[1], sympy.Eq(sympy.Mod(a[0], 2), 1)), (a[2], True)),
    }
    return forms[e.op]()


def dag(e: Expr):
    """Subexpression DAG (networkx): one node per distinct subtree, with attributes ``label``
    (its text) and ``op``; edges go child → parent."""
    import networkx as nx

    g = nx.DiGraph()
    for sub in e.subexpressions():
        g.add_node(sub, label=sub.to_text(), op=sub.op)
        for a in sub.args:
            g.add_edge(a, sub)
    return g
