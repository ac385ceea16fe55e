"""``synthcmp compare``: extract a trained network's circuit and match it to programs."""

from __future__ import annotations

import os
from pathlib import Path

import click

from synthcmp.ui import (
    UserError,
    console,
    err_console,
    json_option,
    llc_options,
    llc_settings,
    print_json,
    top_option,
)
from taskcore.files import exclusive_lock


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@top_option("How many synthesized programs to match against.")
@click.option("--program", "programs", multiple=True, metavar="EXPR",
              help="Also match this program (repeatable), e.g. --program 'x + y + 1'.")  # fmt: skip
@click.option("--node", metavar="EXPR",
              help="Read the network through this node u(x, y) alone, e.g. --node 'x**2 + y**2', "
                   "and test it against its controls (2·u, inv(u)).")  # fmt: skip
@llc_options
@json_option("the JSON result")
@click.pass_context
def compare(ctx: click.Context, run_dir: str, top: int, programs: tuple[str, ...],
            node: str | None, as_json: bool) -> None:  # fmt: skip
    """Extract the circuit of the network in RUN_DIR and say which program it implements.

    Uses the run folder's synth.json, or runs the synthesizer on the run's task and split
    first (and saves it there). Programs named with --program are matched as well, so a
    hypothesis about the network can be tested directly; near misses of the best program
    (f + 1, 2·f, inv(f)) are always added as controls.

    The circuit is read through the node u(x, y) — a value of the programs, or one of
    ±x ± y — that describes the network in the fewest bits; --node names one to read it
    through instead, a hypothesis tested against its controls.

    \b
    Examples:
      synthcmp train modadd --p 97 --out runs/a && synthcmp compare runs/a
      synthcmp compare runs/a --program 'x - y'     hold another program against it
      synthcmp compare runs/a --node 'x * y'        read it through a node of your own
      synthcmp compare runs/a --llc                 and λ̂ over training, beside the bits
    """
    synth_json = Path(run_dir) / "synth.json"
    if os.path.lexists(synth_json) and not synth_json.is_file():  # a FIFO would hang the read
        raise UserError(f"{synth_json} is not a regular file")
    from rich.progress import BarColumn, Progress, TextColumn

    from compare import compare_run  # torch is imported here, not at CLI start
    from neural.store import load_run

    labels = {
        "synth": "synthesizing programs",
        "extract": "extracting the circuit",
        "match": "matching programs",
        "progress": "measuring checkpoints",
        "llc": "estimating λ̂ (SGLD)",
    }
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        console=err_console, transient=True, disable=not err_console.is_terminal,
    ) as bar:  # fmt: skip
        tasks: dict[str, int] = {}

        def on_progress(p) -> None:
            if p.stage not in tasks:
                tasks[p.stage] = bar.add_task(labels.get(p.stage, p.stage), total=p.total)
            bar.update(tasks[p.stage], completed=p.done, total=p.total)

        try:  # compare may write synth.json: not while another process works in the folder
            run = load_run(run_dir)  # a damaged or foreign folder is refused before it is touched
            from synth import parse_program

            for text in programs:  # a bad --program is refused before any work
                parse_program(text, run.task)
            if node is not None:
                from compare.nodes import user_node

                user_node(node, run.task)
            llc_given, llc_checkpoints = llc_settings(ctx)
            from neural.llc import LLCConfig

            llc = LLCConfig(**llc_given) if llc_given is not None else None  # checked here
            with exclusive_lock(run_dir, "run folder", required=False):
                result = compare_run(run_dir, top_k=top, on_progress=on_progress,
                                     user_programs=programs, node=node, llc=llc,
                                     llc_checkpoints=llc_checkpoints)  # fmt: skip
        except MemoryError:
            raise UserError("out of memory while comparing") from None
    document = result.to_json()
    if as_json:
        print_json(document)
        return
    from synthcmp.render.compare import render_compare

    render_compare(document, console)
