"""The embedding read through a one-input node e(x): which function of x sits on circles.

A network that adds places every residue x on circles, ``cos ω_k x`` and ``sin ω_k x`` at
a few key frequencies, because those waves make ``cos ω_k(x + y)`` by angle addition. A
network that learned x² + y² needs ``cos ω_k x²`` and ``sin ω_k x²`` instead: the same
circles, with x² placed on them. So the embedding is read through a node e(x) of one input
(x, x², x³, x⁻¹, log x — the programs' one-input subexpressions, :mod:`compare.nodes`), laid
out on the same basis as the logit node:

* **the spectrum in e** — for each frequency k, the share of the centered embedding's
  squared norm in the span of ``cos ω_k e(x)`` and ``sin ω_k e(x)`` (each centered over
  the symbols; symbols where e has no position, 0 in the dlog basis, are left out). For a
  bijection e this is the embedding's Fourier spectrum over e and the shares sum to 1
  (Parseval); for a two-to-one e such as x² the waves of different k are not orthogonal
  over x, each share is a projection of its own and they need not sum to 1.
* **choosing e** — the node whose waves at the circuit's key frequencies K explain the most
  of the embedding jointly (one least-squares fit on the 2|K| waves), ties to the fewer bits.
  Its **baseline** is the same share for a random relabelling of e's values: what 2|K| waves
  explain of an embedding that is not placed by e at all.

A group's embedding is read in the group's own elements (e = x), through its irreps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compare.basis import Basis
from compare.fourier import omega
from compare.logits import Node
from taskcore.events import BasisKind
from taskcore.table import Task

BASELINE_DRAWS = 8  # random relabellings averaged for the baseline


def centered_rows(embedding: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(E, t): the rows of symbols where e has a position, centered, and those positions."""
    keep = pos >= 0
    E = np.asarray(embedding, dtype=np.float64)[: len(pos)][keep]
    return E - E.mean(axis=0), pos[keep]


def waves_of(t: np.ndarray, key, m: int) -> np.ndarray:
    """(len(t), 2|K|): cos and sin of ω_k t for each k in ``key``, each column centered."""
    phase = omega(np.asarray(list(key)), m)[None, :] * t[:, None]
    W = np.concatenate([np.cos(phase), np.sin(phase)], axis=1)
    return W - W.mean(axis=0)


def explained(E: np.ndarray, W: np.ndarray) -> float:
    """The share of ‖E‖² in the column span of W (least squares)."""
    total = float((E**2).sum())
    if total <= 0 or W.shape[1] == 0:
        return 0.0
    coef, *_ = np.linalg.lstsq(W, E, rcond=None)
    return float(((W @ coef) ** 2).sum() / total)


def node_spectrum(embedding: np.ndarray, node: Node, task: Task) -> np.ndarray:
    """The embedding's share per irrep of the basis, read through ``node`` (module docstring).

    Over Z_m: per frequency k = 0 … ⌊m/2⌋, the projection of E on the two centered waves of
    ω_k e(x), solved per k with its 2×2 Gram matrix. In a group: the isotypic energies of the
    embedding of the elements themselves.
    """
    basis = node.basis
    pos = symbol_positions(node, task)
    E, t = centered_rows(embedding, pos)
    total = max(float((E**2).sum()), 1e-30)
    if basis.kind == BasisKind.IRREPS:
        return basis.harmonics.energy(basis.reindex(E, axes=(0,))) / total
    m = basis.m
    W = waves_of(t, range(m // 2 + 1), m)
    C, Sn = np.split(W, 2, axis=1)  # (rows, R) each
    bc, bs = C.T @ E, Sn.T @ E  # (R, d)
    cc, ss, cs = (C * C).sum(0), (Sn * Sn).sum(0), (C * Sn).sum(0)
    det = cc * ss - cs**2
    scale = max(float(cc.max()), 1e-30) ** 2
    both = det > 1e-9 * scale  # both waves alive and independent
    two = ((ss[:, None] * bc**2 - 2 * cs[:, None] * bc * bs + cc[:, None] * bs**2)
           / np.where(both, det, 1.0)[:, None]).sum(axis=1)  # fmt: skip
    one = (bc**2).sum(axis=1) / np.maximum(cc, 1e-30)
    energy = np.where(both, two, np.where(cc > 1e-9 * np.sqrt(scale), one, 0.0))
    energy[0] = 0.0
    return energy / total


def symbol_positions(node: Node, task: Task) -> np.ndarray:
    """(n,): the position of e(t) for every symbol t (−1 where it has none)."""
    return node.positions(task.algebra)[:, 0]  # a node of x alone: any column will do


def key_share(embedding: np.ndarray, node: Node, task: Task, key: list[int]) -> float:
    """The share of the centered embedding's ‖E‖² in the waves of e at the key frequencies,
    fitted jointly (for a bijection e, the sum of their spectrum shares; for x², where the
    waves of different k overlap, not more than the whole). In a group: the key irreps'
    isotypic energies of the elements' embedding."""
    if node.basis.kind == BasisKind.IRREPS:
        return float(node_spectrum(embedding, node, task)[key].sum()) if key else 0.0
    E, t = centered_rows(embedding, symbol_positions(node, task))
    return explained(E, waves_of(t, key, node.basis.m)) if key else 0.0


@dataclass(frozen=True)
class EmbeddingReading:
    """Which one-input node the embedding is read through, and how well."""

    node: Node
    share: float  # of ‖E‖², in e's waves at the key frequencies
    baseline: float  # the same for a random relabelling of e's values
    spectrum: np.ndarray  # per irrep, read through e


def read_embedding(
    embedding: np.ndarray, nodes: list[Node], key: list[int], task: Task, seed: int = 0
) -> EmbeddingReading:
    """The node of ``nodes`` whose waves at ``key`` explain the most of the embedding (ties to
    the fewer bits; ``nodes[0]``, x, when there is no key frequency), with its baseline."""
    basis: Basis = nodes[0].basis
    if basis.kind == BasisKind.IRREPS or not key:
        node = nodes[0]
        return EmbeddingReading(node, float("nan"), float("nan"),
                                node_spectrum(embedding, node, task))  # fmt: skip
    scored = []
    for node in nodes:
        E, t = centered_rows(embedding, symbol_positions(node, task))
        scored.append((round(explained(E, waves_of(t, key, basis.m)), 9), -node.bits, node))
    share, _, node = max(scored, key=lambda s: (s[0], s[1]))
    E, t = centered_rows(embedding, symbol_positions(node, task))
    rng = np.random.default_rng([seed, 0xE3B])
    draws = [explained(E, waves_of(rng.permutation(basis.m)[t], key, basis.m))
             for _ in range(BASELINE_DRAWS)]  # fmt: skip
    return EmbeddingReading(node, share, float(np.mean(draws)),
                            node_spectrum(embedding, node, task))  # fmt: skip


def circle_coordinates(
    embedding: np.ndarray, node: Node, task: Task, key: list[int]
) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """For each key frequency k, every value of e on the plane where the embedding writes
    ω_k e(x).

    The embedding is fitted on the waves of e at all key frequencies at once,
    ``E ≈ Σ_j [cos ω_j e, sin ω_j e] C_j`` (least squares); frequency k writes to the plane
    spanned by the two rows of C_k. Each symbol's embedding, less the fitted parts of the
    *other* key frequencies, is projected on that plane (an orthonormal basis of it) and
    averaged over the symbols with the same value of e (x and −x under x²). In a network
    that places e(x) on circles at ω_k the points lie on one (an ellipse, up to scale), in
    the order of e·k mod m; what the waves do not explain stays in the points as scatter.
    (Waves of a two-to-one e overlap across frequencies: removing the others first keeps
    their leakage out of each plane.) Frequency m/2 has no sine — cos(π t) = ±1 is a sign,
    two points rather than a circle — and gets no panel. Returns ({k: (values, 2)}, the
    position of each value).
    """
    E, t = centered_rows(embedding, symbol_positions(node, task))
    m = node.basis.m
    W = waves_of(t, key, m)  # (rows, 2K): cos for each k, then sin for each k
    C, *_ = np.linalg.lstsq(W, E, rcond=None)  # (2K, d)
    values, inverse = np.unique(t, return_inverse=True)
    counts = np.bincount(inverse)
    coords = {}
    K = len(key)
    for i, k in enumerate(key):
        if 2 * k == m:
            continue
        own = [i, K + i]
        others = [j for j in range(2 * K) if j not in own]
        rest = E - W[:, others] @ C[others]
        q, _ = np.linalg.qr(C[own].T)  # (d, 2)
        flat = rest @ q
        coords[int(k)] = np.stack([np.bincount(inverse, flat[:, j]) / counts for j in (0, 1)], 1)
    return coords, values
