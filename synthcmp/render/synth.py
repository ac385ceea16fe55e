"""Rich rendering of a synthesis result: math notation, the ranked table, live progress.

The engine (:mod:`synth`) returns plain data; everything a person reads is made here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.table import Table

from taskcore.table import Task


def _fmt_acc(a: float) -> str:
    return f"{a:.3f}" if a < 1 else "1"


def results_table(result, task: Task, top: int) -> Table:
    """The ranked programs (best total bits first), the table among them, and the search."""
    from synth import parse_program

    s = result.stats
    title = (
        f"{task.name}: {task.formula}   n = {task.n}, train {result.n_train}, test {result.n_test}"
    )
    table = Table(title=title, title_justify="left", caption_justify="left")
    table.add_column("#", justify="right", style="dim")
    table.add_column("program", style="bold cyan")
    table.add_column("bits", justify="right", style="bold")
    table.add_column("L(P)", justify="right")
    table.add_column("L(D|P)", justify="right")
    table.add_column("exceptions", justify="right")
    table.add_column("train", justify="right")
    table.add_column("test", justify="right")
    for i, r in enumerate(result.programs[:top], 1):
        shown = (
            "table (memorize every pair)" if r.kind == "table" else parse_program(r.expr, task).pretty()
        )
        table.add_row(
            str(i), shown, f"{r.bits:.1f}", f"{r.program_bits:.2f}", f"{r.data_bits:.1f}",
            f"{r.exceptions:,}", _fmt_acc(r.train_acc), _fmt_acc(r.test_acc),
        )  # fmt: skip
    table.caption = (
        f"{s.programs:,} programs built, {s.distinct:,} distinct kept, in {s.seconds:.2f} s "
        f"({s.programs_per_s / 1e6:.2f} M/s); searched to {s.bits_reached:g} bits; "
        f"stopped: {s.stopped}; peak memory {s.peak_memory_mb:.0f} MB. "
        "bits = L(P) + L(D|P), the two-part code."
    )
    return table


def grammar_table(grammar) -> Table:
    """The prior as the grammar prints itself: production, bits, probability."""
    table = Table(
        title=f"Description-length grammar ({grammar.family} tasks)", title_justify="left"
    )
    table.add_column("production", style="bold cyan")
    table.add_column("bits", justify="right")
    table.add_column("P = 2^−bits", justify="right")
    table.add_column("note")
    for row in grammar.rows():
        table.add_row(
            row["production"],
            "" if row["bits"] is None else f"{row['bits']:.2f}",
            f"{row['probability']:.3f}",
            row["note"],
        )
    table.caption = "L(P) = −Σ log2 P(choice); γ(m) = 2⌊log2 m⌋ + 1 (Elias gamma)"
    return table


@contextlib.contextmanager
def search_progress(console, enabled: bool = True) -> Iterator:
    """A live status line on stderr fed by the search's ``on_progress`` callback."""
    if not enabled or not console.is_terminal:
        yield None
        return
    with console.status("searching…") as status:

        def update(pr) -> None:
            status.update(
                f"level {pr.bits:.2f} bits · {pr.kept:,} functions kept · "
                f"{pr.programs:,} programs built · {pr.solutions} solutions · {pr.seconds:.1f} s"
            )

        yield update
