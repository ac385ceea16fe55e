"""``synthcmp compare``: extract a trained network's circuit and match it to programs."""

from __future__ import annotations

import click

from synthcmp.ui import not_built


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--top",
    type=int,
    default=5,
    show_default=True,
    help="How many synthesized programs to match against.",
)
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON result on stdout.")
def compare(run_dir: str, top: int, as_json: bool) -> None:
    """Extract the circuit of the network in RUN_DIR and say which program it implements."""
    not_built("compare", "issue 6")
