"""synth: programs, their description-length prior, enumerative search and MDL ranking.

    from synth import synthesize, SynthConfig, parse_program
    result = synthesize(task, task.split(0.3, seed=0), SynthConfig(top_k=3))
    result.programs[0].expr           # "x + y": --expr syntax, best total bits first
    program = parse_program(result.programs[0].expr, task)
    program.evaluate(x, y); program.dag(); internal_nodes(program)

Modules: :mod:`synth.dsl` (Program), :mod:`synth.grammar` (the prior),
:mod:`synth.search` (the enumerator), :mod:`synth.mdl` (two-part code),
:mod:`synth.core` (synthesize and the result). Imports only the task core of synthcmp.
"""

from .core import RankedProgram, SearchStats, SynthResult, synthesize
from .dsl import Algebra, Program, algebra_for, internal_nodes, parse_program
from .grammar import Grammar, default_grammar
from .search import SearchProgress, SynthConfig

__all__ = [
    "Algebra",
    "Grammar",
    "Program",
    "RankedProgram",
    "SearchProgress",
    "SearchStats",
    "SynthConfig",
    "SynthResult",
    "algebra_for",
    "default_grammar",
    "internal_nodes",
    "parse_program",
    "synthesize",
]
