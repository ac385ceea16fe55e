"""Extraction: read the logits through every candidate node, keep the best reading, measure it.

1. **Each candidate node** u (:mod:`compare.nodes`) is fitted (:func:`compare.logits.fit_node`),
   its key irreps taken from the logits, and its circuit priced as a program with and
   without a phase (:mod:`compare.readout`). Nodes with the same table of positions are one
   node, the cheapest.
2. **The reading kept** is the one found — faithful to the network on the inputs and on the
   held-out pairs, and compact — with the fewest bits; the node's own bits are part of them,
   so a long node must earn its length. If none is found, the one that explains most of the
   logit variance is kept and shown, unpriced.
3. **The embedding** is read through the one-input node whose waves at the key frequencies
   explain most of it (:mod:`compare.embedding`); frequencies the embedding concentrates on
   join the key set (:func:`compare.logits.embedding_key_frequencies`) and the circuit is
   priced again with them.
4. **Measures and baselines**: restricted and excluded loss, the same restricted loss for
   random key sets of the same size, the key share of the embedding and its baseline, the
   span of the key irreps, the MLP neurons' irreps.

A circuit is *compact* when its key irreps span at most :data:`~compare.circuit.COMPACT` of
the functions of u. Over Z_m that is part of being found: the logits of any network that
computes f peak at c = f(x, y), and a peak is every frequency at once — read through u = f
with all of them, "the circuit" would be the function itself written in waves, and its
faithfulness could not fail. A small non-abelian group needs every irrep it has (S4), so
there the circuit stands, and the report says which measures cannot fail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from compare.circuit import COMPACT, Circuit, circuit_found, circuit_sympy
from compare.embedding import key_share, read_embedding, symbol_positions
from compare.logits import (
    LogitFit,
    Node,
    candidate_bases,
    cross_entropy,
    fit_node,
    key_frequencies,
    key_set,
    key_span,
    node_layout,
    restricted_excluded,
)
from compare.nodes import embedding_nodes, logit_nodes
from compare.readout import CircuitProgram, best_program, fve
from compare.spectra import frequencies_for_mass, neuron_frequencies
from taskcore.errors import TaskError
from taskcore.events import BasisKind
from taskcore.table import Split, Task

BASELINE_DRAWS = 8  # random key sets per baseline


@dataclass
class NodeReading:
    """The logits read through one node: its fit, its circuit as a program, its fve, and
    whether it is found (:func:`compare.circuit.circuit_found`; the restricted loss that
    decides it is computed only for a faithful, compact reading)."""

    fit: LogitFit
    program: CircuitProgram
    fve: float
    logits: np.ndarray
    task: Task
    split: Split

    @property
    def key(self) -> list[int]:
        return self.program.readout.key

    @cached_property
    def found(self) -> bool:
        p, kind = self.program, self.fit.node.basis.kind
        span = key_span(self.fit.harmonics, self.key)
        if not (p.faithful and (kind == BasisKind.IRREPS or span <= COMPACT)):
            return False
        restricted, _ = restricted_excluded(self.logits, self.task, self.split, self.fit, self.key)
        return circuit_found(True, kind, span, restricted, math.log(self.task.n))


def read_node(
    logits: np.ndarray, task: Task, split: Split, fit: LogitFit, n_bases: int,
    key: list[int] | None = None,
) -> NodeReading:  # fmt: skip
    """The circuit of ``fit`` with its own key irreps (or ``key``), priced as a program."""
    key = key_frequencies(fit) if key is None else key
    program = best_program(logits, task, split, fit, key, n_bases)
    return NodeReading(fit, program, fve(fit, program.readout), logits, task, split)


def reading_order(r: NodeReading) -> tuple:
    """Found readings first, fewest bits; then the most variance explained over the inputs
    read (to two decimals: a node that leaves out x = 0 explains a sliver more of fewer
    inputs, and is no better a reading), the cheapest node."""
    if r.found:
        return (0, r.program.bits, 0.0)
    coverage = r.fit.covered / max(int(r.fit.layout.scope.sum()), 1)
    return (1, -round(r.fve * coverage, 2), r.fit.node.bits)


def choose_node(
    logits: np.ndarray, task: Task, split: Split, nodes: list[Node],
    subset: np.ndarray | None = None,
) -> NodeReading:  # fmt: skip
    """The best reading of the logits among ``nodes`` (module docstring), on the inputs of
    ``subset`` (all of the domain by default)."""
    n_bases = len(candidate_bases(task))
    seen: set[tuple[str, bytes]] = set()
    readings = []
    for node in sorted(nodes, key=lambda nd: nd.bits):
        layout = node_layout(node, task, subset)
        signature = (node.basis.kind, layout.u.tobytes())
        if signature in seen or not layout.cover.any():
            continue
        seen.add(signature)
        readings.append(read_node(logits, task, split, fit_node(logits, node, task, layout),
                                  n_bases))  # fmt: skip
    if not readings:
        names = ", ".join(dict.fromkeys(nd.text for nd in nodes)) or "none"
        raise TaskError(f"no candidate node is defined on any input of the task ({names})")
    return min(readings, key=reading_order)


def random_key_sets(harmonics, size: int, draws: int, seed: int) -> list[list[int]]:
    rng = np.random.default_rng([seed, 0xBA5E])
    choices = np.arange(1, harmonics.count)
    size = min(size, len(choices))
    return [sorted(rng.choice(choices, size=size, replace=False).tolist()) for _ in range(draws)]


def restricted_baseline(
    logits: np.ndarray, task: Task, split: Split, fit: LogitFit, key: list[int], seed: int
) -> float:
    """The median restricted loss of random key sets of the same size: what keeping |K| irreps
    along u gives when they are not the circuit's."""
    if not key:
        return float("nan")
    sets = random_key_sets(fit.harmonics, len(key), BASELINE_DRAWS, seed)
    return float(np.median([restricted_excluded(logits, task, split, fit, s)[0] for s in sets]))


def key_share_baseline(
    embedding: np.ndarray, node: Node, task: Task, size: int, seed: int
) -> float:
    """The mean key share of random irrep sets of ``size``: what a key set holds by chance."""
    if not size:
        return float("nan")
    sets = random_key_sets(node.basis.harmonics, size, BASELINE_DRAWS, seed)
    return float(np.mean([key_share(embedding, node, task, s) for s in sets]))


def extract_circuit(
    logits: np.ndarray,
    task: Task,
    split: Split,
    embedding: np.ndarray | None = None,
    neurons: np.ndarray | None = None,
    neuron_layer: str | None = None,
    programs: tuple[str, ...] | list[str] = (),
    nodes: list[Node] | None = None,
    reading: NodeReading | None = None,
    with_expression: bool = True,
) -> Circuit:
    """Extract the circuit from a network's logits on all inputs (module docstring).

    ``logits`` is (n, n, n): ``logits[x, y, c]`` for every input, valid or not; ``split`` the
    shared train/test split (its training labels price the circuit); ``programs`` the
    candidate programs' texts, whose values and subexpressions are the candidate nodes
    (``nodes`` replaces them, e.g. with one node the user names; ``reading`` fixes the
    reading outright); ``embedding`` (n, d) the token embedding and ``neurons`` (n, n, D) the
    MLP activations on every input, both optional.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if reading is None:
        reading = choose_node(logits, task, split, nodes or logit_nodes(task, programs))
    fit, node, n = reading.fit, reading.fit.node, task.n
    basis, h = node.basis, fit.harmonics
    key = list(reading.key)

    emb = None
    if embedding is not None:
        embedding = np.asarray(embedding, np.float64)
        emb = read_embedding(embedding,
                             embedding_nodes(task, programs, basis), key, task, split.seed)  # fmt: skip
        joined = key_set(fit, emb.spectrum)
        if joined != key:  # frequencies the embedding concentrates on join the key set
            key = joined
            reading = read_node(logits, task, split, fit, len(candidate_bases(task)), key)
    program, readout = reading.program, reading.program.readout
    restricted, excluded = restricted_excluded(logits, task, split, fit, key)
    cover = fit.layout.cover

    neuron = {}
    if neurons is not None:
        through = None  # read through e where the embedding is placed by something else than x
        if emb is not None and emb.node.text != "x" and basis.kind != BasisKind.IRREPS:
            through = symbol_positions(emb.node, task)
        nf, ns = neuron_frequencies(np.asarray(neurons, dtype=np.float64), basis, through)
        alive = ns > 0
        clusters: dict[str, int] = {}
        for k in nf[alive]:
            label = str(int(k)) if int(k) in key else "0"
            clusters[label] = clusters.get(label, 0) + 1
        neuron = dict(
            neuron_layer=neuron_layer, neuron_clusters=clusters,
            neuron_key_fraction=float(np.isin(nf[alive], key).mean()) if alive.any() else 0.0,
            neuron_mean_share=float(ns[alive].mean()) if alive.any() else 0.0,
            neuron_frequency=[int(k) for k in nf], neuron_share=[round(float(v), 4) for v in ns],
        )  # fmt: skip

    share = emb.spectrum if emb is not None else None
    amplitude, phase = readout.amplitude(), readout.phase()
    return Circuit(
        basis=basis.kind, g=basis.g, m=basis.m, node=node.text, node_bits=node.bits,
        key_frequencies=key, alpha=[float(a) for a in readout.alpha],
        beta=[] if readout.beta is None else [float(b) for b in readout.beta],
        fve=reading.fve, node_share=fit.node_share(),
        restricted_loss=restricted,
        restricted_loss_baseline=restricted_baseline(logits, task, split, fit, key, split.seed),
        excluded_loss=excluded,
        full_loss=cross_entropy(logits[cover], task.table[cover]),
        train_loss=cross_entropy(logits[split.x_train, split.y_train], split.out_train),
        chance_loss=math.log(n),
        faithfulness=program.faithfulness, faithfulness_test=program.faithfulness_test,
        bits=program.bits if reading.found else None, template_bits=program.template_bits,
        exceptions=program.exceptions, quant_bits=program.quant_bits,
        zero_class=program.zero_class, key_span=key_span(h, key),
        frequency_share=[float(s) for s in fit.share],
        embedding_node=emb.node.text if emb is not None else "x",
        embedding_node_share=emb.share if emb is not None else float("nan"),
        embedding_node_baseline=emb.baseline if emb is not None else float("nan"),
        embedding_share=share.tolist() if share is not None else [],
        key_share=key_share(embedding, emb.node, task, key) if emb else float("nan"),
        key_share_baseline=key_share_baseline(embedding, emb.node, task, len(key), split.seed)
                           if emb else float("nan"),
        frequencies_for_90=frequencies_for_mass(share[1:]) if share is not None else 0,
        expression=str(circuit_sympy(node, readout)) if with_expression else "",
        group=basis.group,
        key_irreps=[
            {"name": h.names[r], "dim": h.dims[r], "share": float(fit.share[r]),
             "alpha": float(readout.alpha[i]), "amplitude": float(amplitude[i]),
             "phase": float(phase[i]),
             "embedding_share": float(share[r]) if share is not None else None}
            for i, r in enumerate(key)
        ],
        irrep_names=list(h.names),
        **neuron,
    )  # fmt: skip
