"""``synthcmp tasks``: the built-in tasks as a table (or JSON)."""

from __future__ import annotations

import click
from rich.table import Table

from synthcmp.ui import UserError, console, json_option, print_json
from taskcore.registry import task_table_rows
from taskcore.table import DEFAULT_P, P_MAX, P_MIN


@click.command()
@click.option(
    "--p",
    "p",
    type=int,
    default=DEFAULT_P,
    show_default=True,
    help="Modulus used to show n and the domain size of modular tasks.",
)
@json_option("the list, as JSON,")
def tasks(p: int, as_json: bool) -> None:
    """List the built-in tasks: name, formula, symbol count n and domain size.

    Any of them can be given to synth, train, compare's runs and run; custom tasks come in
    with --expr "x*y + 3*x" or --table FILE.
    """
    if not P_MIN <= p <= P_MAX:
        raise UserError(f"p = {p} is out of the supported range {P_MIN}..{P_MAX}")
    rows = task_table_rows(p)
    if as_json:
        print_json({"p": p, "tasks": rows})
        return
    table = Table(title=f"Built-in tasks (p = {p})", title_justify="left")
    table.add_column("name", style="bold cyan")
    table.add_column("f(x, y)")
    table.add_column("n", justify="right")
    table.add_column("domain", justify="right")
    table.add_column("train", justify="right")
    for row in rows:
        size = row["domain_size"]
        shown = f"{size:,}" if size is not None else "needs prime p"
        frac = f"{row['train_frac']:.0%}" if row["train_frac"] is not None else "–"
        table.add_row(row["name"], row["formula"], str(row["n"]), shown, frac)
    console.print(table)
    console.print(
        "train: the default training fraction (at least 480 pairs, 30%–80%). "
        "Custom tasks: [bold]--expr[/] 'x*y + 3*x' (ops + - * / ** inv ite odd) "
        "or [bold]--table[/] FILE.csv; [bold]--noise[/] F noises any task."
    )
