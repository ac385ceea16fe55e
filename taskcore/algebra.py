"""What the expression language means: arithmetic mod n, or a finite group.

One evaluator for every use — building a task's table from ``--expr``, checking a
synthesized program on the training pairs, tabulating a program's internal nodes for
compare. It works on whole numpy arrays of inputs at once and returns ``(values, valid)``:
int64 values in 0..n−1 and the mask of cells where every operation was defined.

**Modular** (Z_n): ``+ - *`` mod n; ``inv(a) = a⁻¹``, the modular inverse, defined only where
gcd(a, n) = 1; ``a / b = a · b⁻¹``; ``a ** k`` by repeated squaring; ``ite(c, a, b)`` is ``a``
where the residue c is odd and ``b`` elsewhere. An undefined cell evaluates to 0 and is
marked invalid, so callers that only need values never crash on ``inv(0)``.

**Group** (:class:`~taskcore.groups.Group`): ``*`` is composition, ``inv`` the group inverse,
``a / b = a · b⁻¹`` and ``a ** k`` the k-th power; ``+``, ``-``, literals and ``ite`` have no
meaning there and are refused.

:func:`canonical` puts a tree in the one form the synthesizer's grammar prices and prints:
literals reduced mod n, ``x**1`` → ``x``, ``x**0`` → ``1``, ``a * inv(b)`` → ``a / b`` (mod n);
in a group ``a / b`` → ``a * inv(b)`` and ``a**k`` → ``a * a * …`` (the group grammar has
composition and inverse only).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from taskcore.errors import TaskError
from taskcore.groups import Group
from taskcore.language import Expr, leaf, node


@cache
def modular_inverses(n: int) -> np.ndarray:
    """``inv[a] = a⁻¹ mod n`` where gcd(a, n) = 1, else −1."""
    inv = np.full(n, -1, dtype=np.int64)
    for a in range(n):
        if np.gcd(a, n) == 1:
            inv[a] = pow(a, -1, n)
    inv.setflags(write=False)
    return inv


def modpow(a: np.ndarray, k: int, n: int) -> np.ndarray:
    """a**k mod n by repeated squaring (values stay < n², far inside int64)."""
    result = np.ones_like(a) % n
    base = a % n
    while k:
        if k & 1:
            result = result * base % n
        base = base * base % n
        k >>= 1
    return result


@dataclass(frozen=True, eq=False)
class Algebra:
    """The meaning of the operations: arithmetic mod ``n``, or ``group`` (``n`` = its order)."""

    n: int
    group: Group | None = None

    @property
    def family(self) -> str:
        return "modular" if self.group is None else "group"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Algebra) and (self.n, self.group_name) == (
            other.n,
            other.group_name,
        )

    def __hash__(self) -> int:
        return hash((self.n, self.group_name))

    @property
    def group_name(self) -> str | None:
        return None if self.group is None else self.group.name

    @property
    def inverse_table(self) -> np.ndarray:
        """``inv[a]``: a⁻¹ (0 where a has no inverse mod n); the group inverse in a group."""
        if self.group is not None:
            return self.group.inverse
        return np.maximum(modular_inverses(self.n), 0)

    def evaluate(
        self, e: Expr, x, y, given: dict[Expr, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``e`` at every (x, y), vectorized over any shape: (values, valid).

        ``given`` fixes the value of some subexpressions (arrays of the inputs' shape): the
        program is evaluated as if those nodes had computed them — a counterfactual, as an
        interchange intervention asks for.
        """
        x, y = np.broadcast_arrays(np.asarray(x, np.int64), np.asarray(y, np.int64))
        memo: dict[Expr, tuple[np.ndarray, np.ndarray]] = {
            node: (np.broadcast_to(np.asarray(v, np.int64), x.shape), np.ones(x.shape, bool))
            for node, v in (given or {}).items()
        }
        go = self._group_value if self.group is not None else self._modular_value
        return go(e, x, y, memo)

    def values(self, e: Expr, x, y, given: dict[Expr, np.ndarray] | None = None) -> np.ndarray:
        """Just the values of :meth:`evaluate` (undefined cells are 0)."""
        return self.evaluate(e, x, y, given)[0]

    def _modular_value(self, e, x, y, memo):
        got = memo.get(e)
        if got is not None:
            return got
        n, op = self.n, e.op
        if op in ("x", "y"):
            out = ((x if op == "x" else y) % n, np.ones(x.shape, bool))
        elif op == "const":
            out = (np.full(x.shape, e.value % n, np.int64), np.ones(x.shape, bool))
        else:
            vals = [self._modular_value(a, x, y, memo) for a in e.args]
            valid = np.logical_and.reduce([v for _, v in vals])
            a = vals[0][0]
            b = vals[1][0] if len(vals) > 1 else None
            inverses = modular_inverses(n) if op in ("inv", "div") else None
            if op == "ite":
                odd = a % 2 == 1
                out = (np.where(odd, b, vals[2][0]), vals[0][1] & np.where(odd, vals[1][1],
                                                                          vals[2][1]))  # fmt: skip
            elif op == "neg":
                out = ((-a) % n, valid)
            elif op == "pow":
                out = (modpow(a, e.value, n), valid)
            elif op == "inv":
                r = inverses[a]
                out = (np.maximum(r, 0), valid & (r >= 0))
            elif op == "div":
                r = inverses[b]
                out = (a * np.maximum(r, 0) % n, valid & (r >= 0))
            elif op == "add":
                out = ((a + b) % n, valid)
            elif op == "sub":
                out = ((a - b) % n, valid)
            elif op == "mul":
                out = (a * b % n, valid)
            else:
                raise TaskError(f"{op!r} has no meaning mod {n}")
        memo[e] = out
        return out

    def _group_value(self, e, x, y, memo):
        got = memo.get(e)
        if got is not None:
            return got
        g, op = self.group, e.op
        if op in ("x", "y"):
            value = x if op == "x" else y
            if value.size and (value.min() < 0 or value.max() >= g.n):
                raise TaskError(f"inputs must be elements 0..{g.n - 1} of {g.name}")
            out = value
        elif op == "mul":
            out = g.mul[self._group_value(e.args[0], x, y, memo)[0],
                        self._group_value(e.args[1], x, y, memo)[0]]  # fmt: skip
        elif op == "div":
            a, b = (self._group_value(q, x, y, memo)[0] for q in e.args)
            out = g.mul[a, g.inverse[b]]
        elif op == "inv":
            out = g.inverse[self._group_value(e.args[0], x, y, memo)[0]]
        elif op == "pow":
            out = g.power(self._group_value(e.args[0], x, y, memo)[0], e.value)
        else:
            raise TaskError(
                f"'{op}' has no meaning in a group (use * for composition, / and inv())"
            )
        result = (out, np.ones(x.shape, bool))
        memo[e] = result
        return result


def canonical(e: Expr, algebra: Algebra) -> Expr:
    """The one form of ``e`` that the grammar prices and the printer shows (module docstring)."""
    args = tuple(canonical(a, algebra) for a in e.args)
    group = algebra.group is not None
    if e.op == "const":
        if group:
            raise TaskError("integer literals have no meaning in a group")
        return leaf("const", e.value % algebra.n)
    if e.op == "pow":
        (base,) = args
        if group:
            if e.value == 0:
                return node("mul", base, node("inv", base))  # the identity, spelled in the grammar
            out = base
            for _ in range(e.value - 1):
                out = node("mul", out, base)
            return out
        if e.value == 0:
            return leaf("const", 1 % algebra.n)
        return base if e.value == 1 else node("pow", base, value=e.value)
    if group and e.op == "div":
        return node("mul", args[0], node("inv", args[1]))
    if not group and e.op == "mul" and args[1].op == "inv":
        return node("div", args[0], args[1].args[0])
    return Expr(e.op, args, e.value)
