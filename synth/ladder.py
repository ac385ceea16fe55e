"""The description-length ladder: the training labels' description length under each
explanation, in one code, beside the network's raw size.

The rungs that describe *the data* are the one two-part code of :mod:`synth.mdl` on the N
training pairs, L(model) + L(labels | model), so they compare:

* **shortest program** — L(P) (the grammar's bits) + its exceptions;
* **extracted circuit** — its template + its exceptions (built by the circuit itself,
  :meth:`compare.circuit.Circuit.rung`: ``bits`` is None where no circuit was found);
* **memorized table** — every training label at log2 n bits, plus a default.

A network that found the program has a circuit a few bits longer than the program; one that
memorized has no circuit and nothing shorter than the table. Set apart, the **raw
parameters** at 32 bits each describe the network, not the data.
"""

from __future__ import annotations

from dataclasses import dataclass

from synth.core import RankedProgram
from taskcore.serial import JsonMixin

DATA, NETWORK = "data", "network"  # what a rung describes


@dataclass(frozen=True)
class Rung(JsonMixin):
    """One rung: what it is, its bits (None: no such description), and what they pay for."""

    rung: str
    what: str
    bits: float | None
    describes: str  # DATA | NETWORK
    code: str  # what the bits pay for
    note: str = ""  # said instead of the code where there are no bits
    caveat: str = ""  # a measure beside it that cannot fail here


def program_rung(best: RankedProgram, N: int) -> Rung:
    return Rung("shortest program", best.expr, best.bits, DATA,
                f"L(P) {best.program_bits:.2f} (grammar) + L(labels | P) {best.data_bits:.1f} "
                f"({best.exceptions:,} exceptions of {N:,})",
                f"{best.exceptions:,} exceptions")  # fmt: skip


def table_rung(table: RankedProgram, N: int, n: int) -> Rung:
    return Rung("memorized table", f"{N:,} pairs", table.bits, DATA,
                f"every training label at log2 {n} bits, plus a default")  # fmt: skip


def raw_rung(n_params: int) -> Rung:
    return Rung("raw parameters", f"{n_params:,} × float32", 32.0 * n_params, NETWORK,
                "32 bits per parameter: the network itself, not a code of the labels",
                "describes the network, not the data")  # fmt: skip


def ladder(programs: list[RankedProgram], circuit: Rung | None, n_params: int, N: int,
           n: int) -> list[Rung]:  # fmt: skip
    """The rungs in order: the shortest program, the circuit, the table, the raw parameters
    (a rung is left out where its candidate does not exist)."""
    best = next((p for p in programs if p.kind == "program"), None)
    table = next((p for p in programs if p.kind == "table"), None)
    rungs = [program_rung(best, N)] if best is not None else []
    rungs += [circuit] if circuit is not None else []
    rungs += [table_rung(table, N, n)] if table is not None else []
    return [*rungs, raw_rung(n_params)]
