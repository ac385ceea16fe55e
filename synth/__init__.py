"""synth: the description-length prior, enumerative search and MDL ranking of programs.

    from synth import synthesize, SynthConfig, parse_program
    result = synthesize(task, task.split(0.3, seed=0), SynthConfig(top_k=3))
    result.programs[0].expr           # "x + y": --expr syntax, best total bits first
    program = parse_program(result.programs[0].expr, task)   # a taskcore Expr
    task.algebra.values(program, x, y); program.internal_nodes()

Programs are trees of the one language of :mod:`taskcore.language`. Modules:
:mod:`synth.grammar` (the prior: every bit of a program is computed there),
:mod:`synth.search` (the enumerator), :mod:`synth.mdl` (the two-part code for data given a
model) and :mod:`synth.core` (synthesize and its result). Imports only :mod:`taskcore`.
"""

from .config import SearchProgress, SynthConfig
from .core import RankedProgram, SearchStats, SynthResult, parse_program, program_bits, synthesize
from .grammar import Grammar, default_grammar, grammar_for

__all__ = [
    "Grammar", "RankedProgram", "SearchProgress", "SearchStats", "SynthConfig", "SynthResult",
    "default_grammar", "grammar_for", "parse_program", "program_bits", "synthesize",
]  # fmt: skip
