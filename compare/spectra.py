"""Where the irreps live: the embedding's spectrum and the MLP neurons' irreps.

* **embedding spectrum** — each irrep's share of the (centered) embedding's squared norm
  (for Z_m: each frequency's), and how many of the largest carry 90%
  (:func:`embedding_share`, :func:`frequencies_for_mass`);
* **neuron irreps** — for every MLP neuron, the irrep ρ whose terms (functions of x in ρ,
  of y in ρ, and their products; for Z_m cos/sin ω_k x, cos/sin ω_k y and products)
  explain most of its variance over the n² inputs, and that share
  (:func:`neuron_frequencies`);
* **circle coordinates** — every residue's embedding on the plane that carries a key frequency
  (:func:`circle_coordinates`): a grokked network puts the residues on a circle there.
"""

from __future__ import annotations

import numpy as np

from compare.fourier import Basis, waves

EMBED_MASS = 0.9  # "how many frequencies carry 90% of the embedding"




def embedding_share(embedding: np.ndarray, basis: Basis) -> np.ndarray:
    """Each irrep's share of the centered embedding's squared norm (Z_m: k = 0 … ⌊m/2⌋).

    ``embedding`` is (n, d), one row per symbol in residue order (x and y embeddings side
    by side when a model has two). The mean row is removed first: a constant offset carries
    no information about x.
    """
    E = basis.reindex(embedding[: basis.n], axes=(0,))
    E = E - E.mean(axis=0)
    energy = basis.harmonics.energy(E)
    return energy / max(energy.sum(), 1e-30)


def frequencies_for_mass(share: np.ndarray, mass: float = EMBED_MASS) -> int:
    """How many of the largest frequency shares it takes to reach ``mass`` of the total."""
    return int(np.searchsorted(np.cumsum(np.sort(share)[::-1]), mass - 1e-12) + 1)


def neuron_frequencies(acts: np.ndarray, basis: Basis) -> tuple[np.ndarray, np.ndarray]:
    """Each neuron's dominant irrep and the share of its variance that irrep explains.

    ``acts`` is (n, n, D): neuron activations on every input (x, y). On the basis grid the
    neuron is centered and split by the energy ``E[ρ_x, ρ_y]`` of its parts that are in irrep
    ρ_x as functions of x and ρ_y as functions of y; ρ explains ``E[ρ, 0] + E[0, ρ] + E[ρ, ρ]``
    — for Z_m the terms cos/sin(ω_k x), cos/sin(ω_k y) and their products, which is all a
    neuron computing ``ReLU(cos ω_k x + cos ω_k y + …)`` needs.
    Returns (irrep (D,), share (D,)); a dead neuron (no variance) gets 0, share 0.
    """
    A = basis.reindex(acts, axes=(0, 1))
    A = A - A.mean(axis=(0, 1))
    E = basis.harmonics.cross_energy(A)  # (R, R, D)
    total = E.sum(axis=(0, 1))
    share = np.zeros((E.shape[0], A.shape[2]))
    for k in range(1, E.shape[0]):
        share[k] = E[k, 0] + E[0, k] + E[k, k]
    share = share / np.maximum(total, 1e-30)
    freq = share.argmax(axis=0)
    best = share.max(axis=0)
    dead = total <= 1e-12 * max(total.max(), 1e-30)
    return np.where(dead, 0, freq), np.where(dead, 0.0, best)


def circle_coordinates(embedding: np.ndarray, basis: Basis, key: list[int]) -> dict[int, np.ndarray]:
    """For each key frequency k, every symbol's embedding on the plane that carries ω_k.

    With residues laid out by the basis (position i = residue i, or g^i for the discrete-log
    basis), the directions of the (d-dimensional) embedding that carry frequency k are
    ``v_c = Σ_i cos(ω_k i) W_E[i]`` and ``v_s = Σ_i sin(ω_k i) W_E[i]``. Projecting every row of
    W_E on an orthonormal basis of span(v_c, v_s) gives 2-D points; in a network that uses
    frequency k they lie on a circle (an ellipse, up to scale), in order i·k mod m.
    Returns {k: (m, 2) array}, rows in position order.
    """
    E = basis.reindex(np.asarray(embedding, dtype=np.float64)[: basis.n])
    E = E - E.mean(axis=0)
    positions = np.arange(basis.m)
    coords = {}
    for k in key:
        cos_k, sin_k = waves(np.array([k]), positions, basis.m)
        plane = np.stack([cos_k.ravel() @ E, sin_k.ravel() @ E], axis=1)  # (d, 2)
        q, _ = np.linalg.qr(plane)
        coords[int(k)] = E @ q
    return coords
