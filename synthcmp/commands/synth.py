"""``synthcmp synth``: enumerative program search ranked by description length."""

from __future__ import annotations

import click

from synthcmp.tasks import DEFAULT_TRAIN_FRAC, Task
from synthcmp.ui import not_built, task_options


@click.command()
@task_options
@click.option(
    "--frac", type=float, default=DEFAULT_TRAIN_FRAC, show_default=True, help="Training fraction."
)
@click.option("--top", type=int, default=5, show_default=True, help="How many programs to show.")
@click.option("--max-bits", type=float, default=None, help="Stop the search at this many bits.")
@click.option(
    "--timeout", type=float, default=None, help="Stop the search after this many seconds."
)
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON result on stdout.")
def synth(task: Task, seed: int, frac: float, top: int, max_bits, timeout, as_json: bool) -> None:
    """Search for the shortest programs that fit TASK's training split."""
    not_built("synth", "issue 4")
