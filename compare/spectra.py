"""Where the irreps live: how concentrated the embedding's spectrum is, and the MLP neurons'
irreps. (The embedding's spectrum itself is read through a node: :mod:`compare.embedding`.)

* **embedding mass** — how many of the largest irrep shares carry 90% of the embedding
  (:func:`frequencies_for_mass`);
* **neuron irreps** — for every MLP neuron, the irrep ρ whose terms (functions of x in ρ,
  of y in ρ, and their products; for Z_m cos/sin ω_k x, cos/sin ω_k y and products)
  explain most of its variance over the n² inputs, and that share
  (:func:`neuron_frequencies`).
"""

from __future__ import annotations

import numpy as np

from compare.basis import Basis
from compare.fourier import omega
from taskcore.events import EMBED_MASS  # one definition, shared with the glossary


def frequencies_for_mass(share: np.ndarray, mass: float = EMBED_MASS) -> int:
    """How many of the largest frequency shares it takes to reach ``mass`` of the total."""
    return int(np.searchsorted(np.cumsum(np.sort(share)[::-1]), mass - 1e-12) + 1)


def neuron_frequencies(
    acts: np.ndarray, basis: Basis, e_positions: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each neuron's dominant irrep and the share of its variance that irrep explains.

    ``acts`` is (n, n, D): neuron activations on every input (x, y). On the basis grid the
    neuron is centered and split by the energy ``E[ρ_x, ρ_y]`` of its parts that are in irrep
    ρ_x as functions of x and ρ_y as functions of y; ρ explains ``E[ρ, 0] + E[0, ρ] + E[ρ, ρ]``
    — for Z_m the terms cos/sin(ω_k x), cos/sin(ω_k y) and their products, which is all a
    neuron computing ``ReLU(cos ω_k x + cos ω_k y + …)`` needs.
    Returns (irrep (D,), share (D,)); a dead neuron (no variance) gets 0, share 0.

    ``e_positions`` (n,) reads the neurons through the embedding's node e(x) instead of x
    (:mod:`compare.embedding`): per frequency k, the share of a neuron's variance in the span
    of the eight centered terms cos/sin(ω_k e(x)), cos/sin(ω_k e(y)) and their four products
    (a least-squares projection; over Z_m only, inputs where e has no position left out).
    """
    if e_positions is not None:
        share, total = _shares_through(acts, e_positions, basis.m)
    else:
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


def _shares_through(acts: np.ndarray, e: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(share (R, D), total (D,)) of each neuron's variance per frequency of e (see above)."""
    ok = (e[:, None] >= 0) & (e[None, :] >= 0)
    A = np.asarray(acts, dtype=np.float64)[ok]  # (N, D)
    A = A - A.mean(axis=0)
    total = (A**2).sum(axis=0)
    x, y = np.nonzero(ok)
    share = np.zeros((m // 2 + 1, A.shape[1]))
    for k in range(1, m // 2 + 1):
        w = omega(k, m)
        cx, sx, cy, sy = (f(w * e[v]) for v in (x, y) for f in (np.cos, np.sin))
        F = np.stack([cx, sx, cy, sy, cx * cy, cx * sy, sx * cy, sx * sy], axis=1)
        F = F - F.mean(axis=0)
        q, r = np.linalg.qr(F)
        q = q[:, np.abs(np.diag(r)) > 1e-9 * max(np.abs(np.diag(r)).max(), 1e-30)]
        share[k] = ((q.T @ A) ** 2).sum(axis=0)
    return share / np.maximum(total, 1e-30), total
