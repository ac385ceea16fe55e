"""The plain-ASCII expression language shared by `--expr`, the built-in tasks and synth's output.

A custom task is written as an expression over the two inputs ``x`` and ``y``:

    x*y + 3*x        x**2 + y**2        x / y        ite(odd(y), x / y, x - y)

Grammar (a strict subset of Python's expression syntax, so Python's own parser reads it)::

    e := x | y | INT | e + e | e - e | e * e | e / e | e ** INT | -e | +e | (e)
       | inv(e) | ite(odd(e), e, e)

Over Z_p every operation is taken mod p: ``a / b = a · b⁻¹`` and ``inv(b) = b⁻¹`` are the
modular inverse, defined only where ``gcd(b, p) = 1``; a cell of the table where some
inverse is undefined is outside the task's domain (so ``x / y`` has domain y ≠ 0).
``ite(odd(c), a, b)`` is ``a`` where the residue ``c`` is odd and ``b`` elsewhere.

Over a group (the S5 tasks) the same syntax reads multiplicatively: ``*`` is composition,
``inv`` the group inverse, ``e ** k`` the k-th power; ``+``, ``-`` and literals have no meaning
there and are rejected.

Safety: user text is parsed with :func:`ast.parse` and every node is checked against a
whitelist before anything is computed; nothing is ever passed to ``eval`` or
``sympy.sympify``. Exponents must be small literals, so no expression can ask for an
unbounded amount of work.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import numpy as np

from synthcmp.errors import TaskError

MAX_EXPR_CHARS = 500
MAX_EXPONENT = 64
MAX_DEPTH = 40

FUNCTIONS = {"inv": 1, "ite": 3, "odd": 1}


@dataclass(frozen=True)
class Node:
    """One node of a parsed expression: ``op`` is a variable name, ``const``, or an operator."""

    op: str  # "x" | "y" | "const" | "add" | "sub" | "mul" | "div" | "pow" | "neg" | "inv" | "ite" | "odd"
    args: tuple[Node, ...] = ()
    value: int = 0  # the literal for "const", the exponent for "pow"

    def uses(self, op: str) -> bool:
        return self.op == op or any(a.uses(op) for a in self.args)


_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div"}


def parse(text: str) -> Node:
    """Parse ``text`` into a :class:`Node` tree, or raise :class:`TaskError` saying what is wrong."""
    if len(text) > MAX_EXPR_CHARS:
        raise TaskError(f"expression is longer than {MAX_EXPR_CHARS} characters")
    if not text.strip():
        raise TaskError("expression is empty")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise TaskError(f"cannot parse expression {text!r}: {err.msg}") from None
    return _convert(tree.body, depth=0)


def _convert(node: ast.AST, depth: int) -> Node:
    if depth > MAX_DEPTH:
        raise TaskError(f"expression is nested deeper than {MAX_DEPTH} levels")
    d = depth + 1
    if isinstance(node, ast.Name):
        if node.id in ("x", "y"):
            return Node(node.id)
        raise TaskError(f"unknown name {node.id!r}: only x and y are variables")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            raise TaskError(f"only integer literals are allowed, not {node.value!r}")
        return Node("const", value=node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _convert(node.operand, d)
        return Node("neg", (inner,)) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow):
            exponent = node.right
            if not (isinstance(exponent, ast.Constant) and type(exponent.value) is int):
                raise TaskError("an exponent must be an integer literal, e.g. x**2")
            if not 0 <= exponent.value <= MAX_EXPONENT:
                raise TaskError(
                    f"exponent {exponent.value} is outside 0..{MAX_EXPONENT} (use inv() for inverses)"
                )
            return Node("pow", (_convert(node.left, d),), value=exponent.value)
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise TaskError(f"operator {type(node.op).__name__} is not allowed (use + - * / **)")
        return Node(op, (_convert(node.left, d), _convert(node.right, d)))
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS or node.keywords:
            shown = name or ast.unparse(node.func)
            raise TaskError(f"function {shown!r} is not allowed (only inv, ite, odd)")
        if len(node.args) != FUNCTIONS[name]:
            raise TaskError(f"{name}() takes {FUNCTIONS[name]} argument(s)")
        args = tuple(_convert(a, d) for a in node.args)
        if name == "ite" and args[0].op != "odd":
            raise TaskError("the condition of ite() must be odd(...), e.g. ite(odd(y), x, y)")
        if name == "odd" and depth == 0:
            raise TaskError("odd() is a condition; use it inside ite(odd(...), a, b)")
        return Node(name, args)
    raise TaskError(f"{ast.unparse(node)!r} is not allowed in an expression")


# ---------------------------------------------------------------------------------------
# Evaluation over a whole grid at once. Every function returns (values, valid): int64 arrays
# of residues/elements and a boolean mask of the cells where every operation was defined.


def modular_inverses(p: int) -> np.ndarray:
    """``inv[a] = a⁻¹ mod p`` where ``gcd(a, p) = 1``, else -1."""
    inv = np.full(p, -1, dtype=np.int64)
    for a in range(p):
        if np.gcd(a, p) == 1:
            inv[a] = pow(a, -1, p)
    return inv


def _modpow(a: np.ndarray, k: int, p: int) -> np.ndarray:
    """a**k mod p by repeated squaring (values stay < p², far inside int64)."""
    result = np.ones_like(a) % p
    base = a % p
    while k:
        if k & 1:
            result = result * base % p
        base = base * base % p
        k >>= 1
    return result


def eval_modular(node: Node, x: np.ndarray, y: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate ``node`` mod ``p`` at every (x, y); returns (values, defined-mask)."""
    inverses = modular_inverses(p) if node.uses("inv") or node.uses("div") else None

    def go(n: Node) -> tuple[np.ndarray, np.ndarray]:
        if n.op == "x":
            return x % p, np.ones(x.shape, bool)
        if n.op == "y":
            return y % p, np.ones(y.shape, bool)
        if n.op == "const":
            return np.full(x.shape, n.value % p, np.int64), np.ones(x.shape, bool)
        if n.op == "ite":
            (c, cv), (a, av), (b, bv) = go(n.args[0].args[0]), go(n.args[1]), go(n.args[2])
            odd = c % 2 == 1
            return np.where(odd, a, b), cv & np.where(odd, av, bv)
        vals = [go(a) for a in n.args]
        valid = np.logical_and.reduce([v for _, v in vals])
        a = vals[0][0]
        if n.op == "neg":
            return (-a) % p, valid
        if n.op == "pow":
            return _modpow(a, n.value, p), valid
        if n.op == "inv":
            r = inverses[a]
            return np.maximum(r, 0), valid & (r >= 0)
        b = vals[1][0]
        if n.op == "add":
            return (a + b) % p, valid
        if n.op == "sub":
            return (a - b) % p, valid
        if n.op == "mul":
            return a * b % p, valid
        if n.op == "div":
            r = inverses[b]
            return a * np.maximum(r, 0) % p, valid & (r >= 0)
        raise TaskError(f"{n.op} has no meaning mod p")

    return go(node)


def eval_group(
    node: Node, x: np.ndarray, y: np.ndarray, mul: np.ndarray, inverse: np.ndarray
) -> np.ndarray:
    """Evaluate ``node`` in a group given by its multiplication table ``mul[a, b] = a·b``."""
    identity = int(mul[0, inverse[0]])  # a · a⁻¹, whatever the indexing

    def go(n: Node) -> np.ndarray:
        if n.op == "x":
            return x
        if n.op == "y":
            return y
        if n.op == "mul":
            return mul[go(n.args[0]), go(n.args[1])]
        if n.op == "inv":
            return inverse[go(n.args[0])]
        if n.op == "div":
            return mul[go(n.args[0]), inverse[go(n.args[1])]]
        if n.op == "pow":
            a = go(n.args[0])
            result = np.full_like(a, identity)
            for _ in range(n.value):
                result = mul[result, a]
            return result
        raise TaskError(f"'{n.op}' has no meaning in a group (use * for composition and inv())")

    return go(node)
