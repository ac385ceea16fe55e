"""Interchange interventions: does the network hold a program's intermediate value where the
circuit says, and does that value cause its output?

Behaviour says *what* a network computes; two programs that agree everywhere tie there. To
ask *how*, take one internal node v of a program (u = x + y in ``x + y``; x² in x² + y²):

1. **Locate** v in a layer. Regress the layer's activations h(x, y) on the node's waves
   ``φ(v) = [cos ω_k v, sin ω_k v]`` for the circuit's key frequencies k (v read in the
   circuit's basis: its discrete log for products; in a group, the matrix entries of the key
   irreps at v), over every valid input:
   ``h ≈ mean + A φ(v) + rest``, with ``rest`` uncorrelated with φ(v). The columns of A are
   where the layer writes v — as far as a linear map can tell.
2. **Intervene.** For a base input b = (x, y) and a source input s = (x′, y′), write the
   source's value of v in place of the base's: ``h* = h(b) + A (φ(v(s)) − φ(v(b)))``;
   everything else in h(b) is left as it was.
3. **Predict.** If v is what the network computes with, its output becomes the program's
   output with v's value swapped, ``f(b | v ← v(s))``. The *interchange intervention
   accuracy* (IIA, Geiger et al.) is the share of pairs where the patched network's argmax
   equals that counterfactual — over the pairs where the counterfactual differs from f(b),
   since the others test nothing.

Why this score can fail, as evidence must: a wrong program predicts the wrong counterfactual.
``x + y + 1`` has the node v = x + y + 1, whose waves are a rotation of those of x + y — the
same subspace — so the patched network outputs x′ + y′ while that program predicts
x′ + y′ + 1: IIA ≈ 0. ``inv(x + y)`` and ``2x + 2y`` have waves the layer does not carry; A
is then near zero and the patch does not move the output where they predict. A decodability
score alone (or η²) would be blind to the shift, since a bijection of a node carries the
same information; the intervention is not, because it checks the consequence.

Only layers the logits are an affine function of are used (``model.linear_readouts()``), so a
patched activation's logits are exactly ``logits(b) + (h* − h(b)) M``: no second pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compare.basis import Basis
from taskcore.algebra import Algebra
from taskcore.language import Expr

PAIRS = 1024  # base/source pairs sampled once per network
MIN_PAIRS = 32  # fewer informative pairs than this: the node is not tested (NaN)


@dataclass
class _Layer:
    acts: np.ndarray  # (n², D), row x·n + y
    readout: np.ndarray  # (D, n)


class Intervener:
    """Interchange interventions on one network: its activations at the layers with a linear
    readout, its logits, and a fixed sample of (base, source) pairs of valid inputs."""

    def __init__(
        self,
        layers: dict[str, tuple[np.ndarray, np.ndarray]],
        logits: np.ndarray,
        domain: np.ndarray,
        algebra: Algebra,
        basis: Basis,
        key: list[int],
        seed: int = 0,
    ):
        n = domain.shape[0]
        self.n, self.algebra, self.basis, self.key = n, algebra, basis, list(key)
        self.logits = np.asarray(logits, dtype=np.float64).reshape(n * n, n)
        self.valid = np.flatnonzero(domain.reshape(-1))
        self.layers: dict[str, _Layer] = {}
        for name, (acts, readout) in layers.items():
            A = np.asarray(acts, dtype=np.float64).reshape(n * n, -1)
            self.layers[name] = _Layer(A, np.asarray(readout, np.float64))
        rng = np.random.default_rng([seed, 0x117E])
        self.base = rng.choice(self.valid, size=PAIRS)
        self.source = rng.choice(self.valid, size=PAIRS)
        self.x, self.y = np.divmod(np.arange(n * n), n)

    def waves(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(features (len(v), F), defined (len(v),)): v's key-irrep features — for Z_m
        cos/sin(ω_k pos(v)) per key frequency, for a group an orthonormal basis of the key
        irreps' matrix entries evaluated at v."""
        pos = self.basis.position[v]
        features = self.basis.harmonics.features(np.maximum(pos, 0), self.key)
        return features, pos >= 0

    def node(self, program: Expr, node: Expr) -> dict[str, float]:
        """IIA of ``node`` of ``program`` at every layer (NaN where it cannot be tested)."""
        if not self.key:
            return {name: float("nan") for name in self.layers}
        v = self.algebra.values(node, self.x, self.y)  # (n²,)
        phi, ok = self.waves(v)
        b, s = self.base, self.source
        use = ok[b] & ok[s]
        b, s = b[use], s[use]
        original = self.algebra.values(program, self.x[b], self.y[b])
        counterfactual = self.algebra.values(program, self.x[b], self.y[b], given={node: v[s]})
        informative = counterfactual != original
        if informative.sum() < MIN_PAIRS:
            return {name: float("nan") for name in self.layers}
        b, s, target = b[informative], s[informative], counterfactual[informative]
        rows = self.valid[ok[self.valid]]
        F = phi[rows] - phi[rows].mean(axis=0)  # (V, 2K)
        out = {}
        for name, layer in self.layers.items():
            H = layer.acts[rows] - layer.acts[rows].mean(axis=0)
            A, *_ = np.linalg.lstsq(F, H, rcond=None)  # (2K, D): h ≈ A φ(v) + rest
            delta = (phi[s] - phi[b]) @ A  # (P, D): the source's v written over the base's
            patched = self.logits[b] + delta @ layer.readout
            out[name] = float((patched.argmax(axis=1) == target).mean())
        return out
