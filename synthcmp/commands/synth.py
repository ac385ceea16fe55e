"""``synthcmp synth``: enumerative program search ranked by description length."""

from __future__ import annotations

import math

import click

from synthcmp.ui import (
    UserError,
    console,
    err_console,
    frac_option,
    json_option,
    print_json,
    task_options,
    top_option,
    train_frac,
)
from taskcore.table import Task

MAX_BITS = 1000  # far past any search budget: 2^1000 programs


@click.command()
@task_options
@frac_option
@top_option("Stop after this many exact programs; show this many ranked programs.")
@click.option(
    "--max-bits", type=float, default=None, help="Stop the search at this many bits [32]."
)
@click.option(
    "--timeout", type=float, default=None, help="Stop the search after this many seconds [30]."
)
@json_option("the JSON result")
@click.option(
    "--grammar", "show_grammar", is_flag=True, help="Print the grammar (the prior) and exit."
)
def synth(
    task: Task,
    seed: int,
    frac: float,
    top: int,
    max_bits,
    timeout,
    as_json: bool,
    show_grammar: bool,
) -> None:
    """Search for the shortest programs that fit TASK's training split.

    Programs are enumerated in order of description length (bits under a probabilistic
    grammar) and ranked by L(P) + L(data | P): the program's bits plus the bits of its
    exceptions. The literal table is always a candidate.

    \b
    Examples:
      synthcmp synth modcond --p 97     the conditional: a 29-bit program
      synthcmp synth lookup --p 23      random labels: the table wins
      synthcmp synth --expr 'x * y * x' --group S4
      synthcmp synth modadd --grammar   the prior, production by production
    """
    from synth import SynthConfig, default_grammar, synthesize
    from synthcmp.render.synth import grammar_table, results_table, search_progress

    if show_grammar:
        grammar = default_grammar(task.family)
        if as_json:
            print_json({"family": grammar.family, "productions": grammar.rows()})
        else:
            console.print(grammar_table(grammar))
        return

    if max_bits is not None and not 0 < max_bits <= MAX_BITS:  # nan and inf fail too
        raise UserError(f"--max-bits must be in (0, {MAX_BITS}], got {max_bits}")
    if timeout is not None and not 0 < timeout < math.inf:
        raise UserError(f"--timeout must be a positive number of seconds, got {timeout}")
    defaults = SynthConfig()
    config = SynthConfig(
        top_k=top,
        max_bits=defaults.max_bits if max_bits is None else max_bits,
        timeout_s=defaults.timeout_s if timeout is None else timeout,
        seed=seed,
    )
    split = task.split(train_frac(frac, task), seed)
    try:
        with search_progress(err_console, enabled=not as_json) as on_progress:
            result = synthesize(task, split, config, on_progress)
    except MemoryError:  # the search stops itself at max_memory_mb; this is the machine's limit
        raise UserError("out of memory during the search; try a smaller --max-bits") from None
    if as_json:
        print_json(result.to_json())
        return
    console.print(results_table(result, task, top))
