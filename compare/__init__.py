"""compare: open a trained network, extract its circuit, and hold it against the programs.

The synthesizer (:mod:`synth`) answers "what are the shortest programs that fit the
training pairs?"; the trainer (:mod:`neural`) produces a network that fits them too.
This package asks which program the network *is*:

* :mod:`compare.fourier` — the Fourier basis over Z_n and the discrete-log basis;
* :mod:`compare.logits` — the form u, key frequencies, the logit model
  ``logit(x, y, c) ≈ Σ_k α_k cos(ω_k(u − c))``, restricted and excluded loss;
* :mod:`compare.spectra` — the embedding's spectrum, neuron frequencies, circle coordinates;
* :mod:`compare.circuit` — the circuit as a program: predictions, bits, faithfulness;
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
