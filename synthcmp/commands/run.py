"""``synthcmp run``: synthesize, train, compare, report — the whole comparison in one command."""

from __future__ import annotations

import click

from synthcmp.tasks import DEFAULT_TRAIN_FRAC, Task
from synthcmp.ui import not_built, task_options


@click.command()
@task_options
@click.option(
    "--model",
    type=click.Choice(["transformer", "mlp"]),
    default="transformer",
    show_default=True,
    help="Network architecture.",
)
@click.option(
    "--frac", type=float, default=DEFAULT_TRAIN_FRAC, show_default=True, help="Training fraction."
)
@click.option("--steps", type=int, default=None, help="Training steps.")
@click.option("--top", type=int, default=5, show_default=True, help="Programs to keep and match.")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Run folder (default: a fresh folder under runs/).",
)
@click.option("--json", "as_json", is_flag=True, help="Print only report.json on stdout.")
@click.option(
    "--html",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write a self-contained HTML report here.",
)
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
def run(task: Task, seed: int, model, frac, steps, top, out, as_json, html, no_plots) -> None:
    """Run the synthesizer and the network on TASK's shared split, extract the network's
    circuit, match it to the shortest programs and write a report."""
    not_built("run", "issue 7")
