"""``synthcmp train``: train a network on a task and store the run."""

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
@click.option("--steps", type=int, default=None, help="Training steps (default: the model's).")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Run folder.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run in --out.")
@click.option("--force", is_flag=True, help="Overwrite an existing run folder.")
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON summary on stdout.")
def train(task: Task, seed: int, model, frac, steps, out, resume, force, as_json) -> None:
    """Train a network on TASK's training split until it groks (or the steps run out)."""
    not_built("train", "issue 5")
