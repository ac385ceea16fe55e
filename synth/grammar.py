"""The prior over programs: a probabilistic grammar, and description length in bits.

A program is built top-down by a sequence of choices; each choice has a probability, and
the program's description length is the length of its code under the grammar,

    L(P) = −Σ log2 P(choice)   bits,

a proper prefix code as long as every choice point's probabilities sum to at most one
(Kraft: Σ 2^−L ≤ 1). Short programs are a priori likely; the search enumerates in order
of L, and MDL ranking adds the bits of the data the program does not explain.

The grammar is stated directly in bits, in quarter-bit steps, so every description length is
an exact multiple of 1/4 bit (the search keeps integer *units* of 1/4 bit and its cost
levels are exact). The probabilities are 2^−bits; their sum is printed by :meth:`Grammar.rows`.

Modular tasks (everything mod p)::

    production             bits    P         notes
    x, y                   2.50    0.177     each
    a + b, a * b           2.75    0.149     each
    a - b                  3.50    0.088
    a ** k                 3.50    0.088     + γ(k − 1) bits for the exponent k ≥ 2
    c (an integer)         4.50    0.044     + γ(c + 1) bits for the residue c ≥ 0
    inv(a)                 4.50    0.044     modular inverse (a / b is a * inv(b))
    -a                     5.25    0.026
    ite(odd(c), a, b)      5.75    0.019     a where c is odd, else b
                                   Σ = 0.961

Group tasks (S5; ``*`` is composition, ``inv`` the group inverse)::

    x, y, a * b            1.75    0.297     each
    inv(a)                 3.25    0.105
                                   Σ = 0.996

γ(m) = 2⌊log2 m⌋ + 1 is Elias's gamma code for a positive integer m: a universal code,
1 bit for m = 1, 3 bits for 2–3, 5 bits for 4–7, … (Σ_m 2^−γ(m) = 1), so small constants and
exponents are cheap and no constant needs a bound on its size.

With these numbers natural programs are short: ``x + y`` costs 7.75 bits and its detour
``x - (-y)`` 13.75; ``x / y`` = ``x * inv(y)`` 12.25; ``x**2`` (7.0) is cheaper than
``x * x`` (7.75); ``x**2 + y**2`` 16.75; in S5 ``x * y * inv(x)`` 12.0. The numbers are a
choice, not a fit: addition and multiplication as likely as each other, subtraction a bit
less, inverses, negation and conditionals rarer; the Kraft slack (1 − Σ) is left unused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from taskcore.errors import TaskError
from taskcore.language import Expr

UNITS_PER_BIT = 4  # costs are kept as integers in quarter bits


def elias_gamma_bits(m: int) -> int:
    """Length of Elias's gamma code for the positive integer ``m``: 2⌊log2 m⌋ + 1."""
    if m < 1:
        raise ValueError(f"Elias gamma codes positive integers, got {m}")
    return 2 * (m.bit_length() - 1) + 1


MODULAR_BITS = {
    "x": 2.5,
    "y": 2.5,
    "add": 2.75,
    "mul": 2.75,
    "sub": 3.5,
    "pow": 3.5,
    "const": 4.5,
    "inv": 4.5,
    "neg": 5.25,
    "ite": 5.75,
}
GROUP_BITS = {"x": 1.75, "y": 1.75, "mul": 1.75, "inv": 3.25}

_SHOWN = {
    "x": "x",
    "y": "y",
    "add": "a + b",
    "mul": "a * b",
    "sub": "a - b",
    "pow": "a ** k",
    "const": "c",
    "inv": "inv(a)",
    "neg": "-a",
    "ite": "ite(odd(c), a, b)",
}
_NOTES = {
    "modular": {
        "pow": "+ γ(k−1) for the exponent k ≥ 2",
        "const": "+ γ(c+1) for the residue c ≥ 0",
        "inv": "modular inverse; a / b = a * inv(b)",
        "ite": "a where c is odd, else b",
    },
    "group": {"mul": "composition (a∘b)(i) = a(b(i))", "inv": "group inverse"},
}


@dataclass(frozen=True)
class Grammar:
    """Production costs in bits for one family of tasks ("modular" or "group").

    The enumerator asks the grammar what a choice costs (:meth:`units`); it never hard-codes
    a cost. ``max_exponent`` bounds the exponents the *search* tries (parsing allows more).
    """

    family: str
    costs: dict[str, float] = field(default_factory=dict)  # production → bits
    max_exponent: int = 4

    def __hash__(self) -> int:
        return hash((self.family, tuple(sorted(self.costs.items())), self.max_exponent))

    @property
    def ops(self) -> tuple[str, ...]:
        return tuple(self.costs)

    def op_bits(self, op: str) -> float:
        """Bits of choosing production ``op`` (without its integer argument)."""
        if op not in self.costs:
            raise TaskError(f"{op!r} is not a production of the {self.family} grammar")
        return self.costs[op]

    def const_bits(self, c: int) -> float:
        return self.op_bits("const") + elias_gamma_bits(c + 1)

    def pow_bits(self, k: int) -> float:
        return self.op_bits("pow") + elias_gamma_bits(k - 1)

    def bits(self, program: Expr) -> float:
        """L(P) = Σ over the tree's nodes of the bits of the choice that made the node.

        ``program`` is in canonical form (:func:`taskcore.algebra.canonical`); a division
        ``a / b`` is ``a * inv(b)`` and costs both choices.
        """
        total = 0.0
        stack = [program]
        while stack:
            e = stack.pop()
            if e.op == "const":
                total += self.const_bits(e.value)
            elif e.op == "pow":
                total += self.pow_bits(e.value)
            elif e.op == "div":
                total += self.op_bits("mul") + self.op_bits("inv")
            else:
                total += self.op_bits(e.op)
            stack.extend(e.args)
        return total

    def units(self, bits: float) -> int:
        """Bits as integer quarter-bit units (exact: every cost is a multiple of 1/4)."""
        return int(round(bits * UNITS_PER_BIT))

    def kraft_sum(self) -> float:
        """Σ_productions 2^−bits: at most 1 for a proper (prefix) code."""
        return sum(2.0**-b for b in self.costs.values())

    def rows(self) -> list[dict]:
        """The grammar as table rows (production, bits, probability, note) for the shell."""
        notes = _NOTES.get(self.family, {})
        rows = [
            {"production": _SHOWN[op], "bits": b, "probability": 2.0**-b, "note": notes.get(op, "")}
            for op, b in self.costs.items()
        ]
        rows.append(
            {"production": "Σ", "bits": None, "probability": self.kraft_sum(),
             "note": "Kraft sum (≤ 1: a proper code)"}
        )  # fmt: skip
        return rows


MODULAR = Grammar("modular", MODULAR_BITS)
GROUP = Grammar("group", GROUP_BITS)


def default_grammar(family: str) -> Grammar:
    """The grammar for a task family: "group" tasks get the group grammar, all others modular."""
    return GROUP if family == "group" else MODULAR


def grammar_for(algebra) -> Grammar:
    """The grammar of an :class:`~taskcore.algebra.Algebra`."""
    return default_grammar(algebra.family)
