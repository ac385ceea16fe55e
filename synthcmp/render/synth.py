"""Rich rendering of a synthesis result: math notation, the ranked table, live progress.

The engine (:mod:`synth`) returns plain data; everything a person reads is made here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.table import Table
from rich.text import Text

from synthcmp.render.compare import DASH, fmt
from synthcmp.render.glossary import legend
from taskcore.table import Task


def _fmt_acc(a) -> str:
    return fmt(a, ".3f") if a is None or a < 1 else "1"


def _shown(p: dict, task: Task) -> str:
    """A program in math notation (the table as words); the stored text if it will not parse."""
    from synth import parse_program

    if p.get("kind") == "table":
        return "table (memorize every pair)"
    try:
        return parse_program(p["expr"], task).pretty()
    except Exception:  # a stored report from another version: show what it says
        return p.get("expr") or DASH


def programs_table(document: dict, task: Task, top: int) -> Table:
    """The ranked programs of a synth document (``SynthResult.to_json()``), best first.

    Numbers never wrap; a long program wraps at its spaces. No title or caption: the
    callers add the search line (:func:`search_line`) and the legend where they fit."""
    table = Table(header_style="bold", pad_edge=False, box=None)
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column("program", style="bold cyan", overflow="fold", min_width=12)
    for col in ("bits", "L(P)", "L(D|P)", "exceptions", "train", "test"):
        table.add_column(
            col, justify="right", no_wrap=True, style="bold" if col == "bits" else None
        )
    for i, p in enumerate((document.get("programs") or [])[:top], 1):
        table.add_row(
            str(i), _shown(p, task), fmt(p.get("bits"), ",.1f"), fmt(p.get("program_bits"), ".2f"),
            fmt(p.get("data_bits"), ",.1f"), fmt(p.get("exceptions"), ","),
            _fmt_acc(p.get("train_acc")), _fmt_acc(p.get("test_acc")),
        )  # fmt: skip
    return table


def search_line(stats: dict | None) -> Text:
    """How the search went, in one dim sentence."""
    s = stats or {}
    rate = s.get("programs_per_s")
    return Text(
        f"{fmt(s.get('programs'), ',')} programs built, {fmt(s.get('distinct'), ',')} distinct "
        f"kept, in {fmt(s.get('seconds'), '.2f')} s "
        f"({fmt(None if rate is None else rate / 1e6, '.2f')} M/s); searched to "
        f"{fmt(s.get('bits_reached'), 'g')} bits; stopped: {s.get('stopped') or DASH}; "
        f"peak memory {fmt(s.get('peak_memory_mb'), '.0f')} MB.",
        style="dim",
    )


LEGEND = ("bits", "L(P)", "L(D|P)", "exceptions", "accuracy")


def results_table(result, task: Task, top: int) -> Table:
    """The ranked programs (best total bits first), the table among them, and the search."""
    table = programs_table(result.to_json(), task, top)
    table.title = (
        f"{task.name}: {task.formula}   n = {task.n}, train {result.n_train}, test {result.n_test}"
    )
    table.title_justify = table.caption_justify = "left"
    table.caption = search_line(result.stats.to_json()) + Text("\n") + legend(*LEGEND)
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
