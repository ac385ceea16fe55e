"""compare: open a trained network, extract its circuit, and hold it against the programs.

The synthesizer (:mod:`synth`) answers "what are the shortest programs that fit the
training pairs?"; the trainer (:mod:`neural`) produces a network that fits them too.
This package asks which program the network *is*:

* :mod:`compare.fourier` — the Fourier basis over Z_n and the discrete-log basis;
* :mod:`compare.nodes` — the candidate nodes u(x, y) and e(x), proposed by the programs;
* :mod:`compare.logits` — the logits read through a node u: key frequencies, the node share,
  restricted and excluded loss;
* :mod:`compare.readout` — the logit model ``Σ_k α_k cos(ω_k(u − c)) (+ phases)`` as a
  program: its argmax, faithfulness and bits;
* :mod:`compare.embedding` — the embedding read through a one-input node e: its spectrum,
  the node it places on circles, circle coordinates;
* :mod:`compare.spectra` — how concentrated the embedding is, the neurons' frequencies;
* :mod:`compare.extract` — every candidate node read, the best kept, measured with baselines;
* :mod:`compare.circuit` — the extracted circuit: its fields, sympy, graph and predictions;
* :mod:`compare.branches` — a conditional read per branch; a node the user names, tested;
* :mod:`compare.match` — behaviour, spectrum and intermediates per program, and the verdict;
* :mod:`compare.progress` — the same measures over the checkpoints, and the phases;
* :mod:`compare.network` — one batched pass over all n² inputs with the activation cache;
* :mod:`compare.handbuilt` — networks wired by hand to run the Fourier algorithm;
* :mod:`compare.analysis` — the entry points below;
* :mod:`compare.universality` — many runs of one task aligned (:func:`align_runs`), with
  :mod:`compare.similarity`, :mod:`compare.clockpizza` and :mod:`compare.handbuilt_pizza`.

Entry point::

    from compare import compare_run
    result = compare_run("runs/modadd-97", top_k=5)
    result.match.verdict          # "implements x + y (behaviour 100.0%, …)"
    result.to_json()              # {"circuit": …, "match": …, "phases": …, "programs": …, "progress": …}

compare imports :mod:`taskcore`, :mod:`synth` and :mod:`neural`; never the shell.
"""

from compare.analysis import (
    CompareProgress,
    CompareResult,
    analyse_model,
    compare_run,
    load_or_synthesize,
)
from compare.circuit import Circuit
from compare.match import Match, ProgramMatch
from compare.progress import Phases, ProgressPoint
from compare.universality import AlignResult, RunReport, align_runs

__all__ = [
    "Circuit", "CompareProgress", "CompareResult", "Match", "Phases", "ProgramMatch",
    "ProgressPoint", "analyse_model", "compare_run", "load_or_synthesize",
    "AlignResult", "RunReport", "align_runs",
]  # fmt: skip
