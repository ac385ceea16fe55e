"""Networks wired by hand to run the Fourier algorithm: ground truth for circuit extraction.

A trained network's circuit is only as believable as the tool that reads it, so the tool is
first tested on networks whose circuit is known because we set every weight. Both use the
quadratic activation, which makes the algorithm exact: products come from squares,

    a·b = ((a + b)² − (a − b)²) / 4,

so with ``c_x = cos ω_k x``, ``s_x = sin ω_k x`` (and the same for y) eight neurons per key
frequency give

    cos ω_k(x ± y) = c_x c_y ∓ s_x s_y,        sin ω_k(x ± y) = s_x c_y ± c_x s_y,

and the unembedding ``W_U[cos_k, c] = cos ω_k c``, ``W_U[sin_k, c] = sin ω_k c`` turns them
into ``logit(c) = scale · Σ_k cos(ω_k(u − c))``, largest at ``c = u``.

* :func:`fourier_transformer` — :class:`neural.models.Transformer` (one layer, 4 heads): the
  token embedding writes ``(cos ω_k t, sin ω_k t)``; head 0 attends only to the x position,
  head 1 only to y (a position tag in ``W_pos`` meets a large query at "="), and copy the
  waves into separate x and y channels; the MLP multiplies; ``W_U`` reads the result.
* :func:`fourier_mlp` — :class:`neural.models.MLP` (concatenated learned embeddings): the
  same, without attention.

``sign = -1`` builds u = x − y instead (the subtraction variant). With ``basis`` a
discrete-log :class:`~compare.basis.Basis` every wave is taken of ``log t`` instead of
``t`` (over Z_{p−1}), which makes the same wiring compute x·y (or x/y); the symbol 0 has
no log and embeds as zero, so every product with it vanishes, all logits are 0 and the
argmax is class 0 — which is x·0 = 0.
"""

from __future__ import annotations

import numpy as np
import torch

from compare.basis import Basis, additive_basis
from compare.fourier import omega


def _waves(n: int, key: list[int], basis: Basis | None = None) -> np.ndarray:
    """(n, 2K): columns cos ω_k t, sin ω_k t for each key frequency, t the basis position
    of each symbol (rows of symbols without a position, 0 in the dlog basis, are zero)."""
    basis = basis or additive_basis(n)
    t = basis.position
    cols = [[np.cos(omega(k, basis.m) * t), np.sin(omega(k, basis.m) * t)] for k in key]
    return np.concatenate(cols).T * (t >= 0)[:, None]


def _product_neurons(K: int, sign: int) -> tuple[np.ndarray, np.ndarray]:
    """W_in (4K → 8K) from (c_x, s_x, …, c_y, s_y, …) and W_out (8K → 2K) to (cos ω_k u, sin ω_k u).

    Neuron pairs (a + b)², (a − b)² read the four products c_x c_y, s_x s_y, s_x c_y, c_x s_y.
    """
    W_in = np.zeros((4 * K, 8 * K))
    W_out = np.zeros((8 * K, 2 * K))
    for i in range(K):
        cx, sx, cy, sy = 2 * i, 2 * i + 1, 2 * K + 2 * i, 2 * K + 2 * i + 1
        # (a, b, coefficient of a·b in cos u, in sin u)
        products = [
            (cx, cy, 1.0, 0.0),
            (sx, sy, -sign, 0.0),
            (sx, cy, 0.0, 1.0),
            (cx, sy, 0.0, sign),
        ]
        for j, (a, b, to_cos, to_sin) in enumerate(products):
            plus, minus = 8 * i + 2 * j, 8 * i + 2 * j + 1
            W_in[a, plus] = W_in[b, plus] = 1.0
            W_in[a, minus], W_in[b, minus] = 1.0, -1.0
            for neuron, s in ((plus, 0.25), (minus, -0.25)):
                W_out[neuron, 2 * i] = s * to_cos
                W_out[neuron, 2 * i + 1] = s * to_sin
    return W_in, W_out


def _unembed(n: int, key: list[int], scale: float, basis: Basis | None) -> np.ndarray:
    return (
        scale * _waves(n, key, basis).T
    )  # (2K, n): row cos_k is cos ω_k c, row sin_k is sin ω_k c


def fourier_mlp(
    n: int, key: list[int], sign: int = 1, scale: float = 5.0, basis: Basis | None = None
):
    """A :class:`neural.models.MLP` computing ``logits = scale · Σ_k cos(ω_k(x + sign·y − c))``."""
    from neural.models import ModelConfig, build_model

    K = len(key)
    d = 2 * K
    model = build_model(
        ModelConfig(kind="mlp", d_model=d, d_mlp=8 * K, act="quadratic", combine="concat"), n
    )
    W_in, W_out = _product_neurons(K, sign)
    E = np.zeros((n, d))
    E[:, : 2 * K] = _waves(n, key, basis)
    W = np.zeros((2 * d, 8 * K))
    W[: 2 * K] = W_in[: 2 * K]
    W[d : d + 2 * K] = W_in[2 * K :]
    with torch.no_grad():
        model.E_x.copy_(torch.tensor(E))
        model.E_y.copy_(torch.tensor(E))
        model.W_in.copy_(torch.tensor(W))
        model.W_U.copy_(torch.tensor(W_out @ _unembed(n, key, scale, basis)))
    return model


def fourier_transformer(
    n: int, key: list[int], sign: int = 1, scale: float = 5.0, basis: Basis | None = None
):
    """A one-layer :class:`neural.models.Transformer` computing
    ``logits = scale · Σ_k cos(ω_k(x + sign·y − c))``.

    Residual channels: [X: 2K | Y: 2K | U: 2K | tag x, tag y, query | T: 2K raw waves].
    """
    from neural.models import ModelConfig, build_model

    K = len(key)
    X, Y, U, TAG, T = 0, 2 * K, 4 * K, 6 * K, 6 * K + 3
    d = -(-(8 * K + 3) // 4) * 4  # a multiple of the 4 heads
    d_head = d // 4
    assert d_head >= 2 * K
    model = build_model(
        ModelConfig(kind="transformer", d_model=d, n_heads=4, d_mlp=8 * K, act="quadratic"), n
    )
    W_E = np.zeros((n + 1, d))
    W_E[:n, T : T + 2 * K] = _waves(n, key, basis)
    W_pos = np.zeros((3, d))
    W_pos[0, TAG], W_pos[1, TAG + 1], W_pos[2, TAG + 2] = 1.0, 1.0, 1.0
    W_Q, W_K, W_V, W_O = (np.zeros((d, d)) for _ in range(4))
    for head, (tag, dest) in enumerate(((TAG, X), (TAG + 1, Y))):
        col = head * d_head
        W_Q[TAG + 2, col] = 200.0  # the "=" query is large and constant...
        W_K[tag, col] = 1.0  # ...and meets only the key of its own position
        W_V[T : T + 2 * K, col : col + 2 * K] = np.eye(2 * K)  # copy the waves
        W_O[col : col + 2 * K, dest : dest + 2 * K] = np.eye(2 * K)
    W_in_small, W_out_small = _product_neurons(K, sign)
    W_in = np.zeros((d, 8 * K))
    W_in[X : X + 4 * K] = W_in_small  # X and Y channels are adjacent: (c_x, s_x, …, c_y, s_y, …)
    W_out = np.zeros((8 * K, d))
    W_out[:, U : U + 2 * K] = W_out_small
    W_U = np.zeros((d, n))
    W_U[U : U + 2 * K] = _unembed(n, key, scale, basis)
    return set_transformer_weights(model, W_E, W_pos, W_Q, W_K, W_V, W_O, W_in, W_out, W_U)


def set_transformer_weights(model, W_E, W_pos, W_Q, W_K, W_V, W_O, W_in, W_out, W_U):
    """Write hand-chosen matrices into a one-layer transformer (MLP biases zero); returns it."""
    block = model.blocks[0]
    with torch.no_grad():
        for param, value in (
            (model.W_E, W_E), (model.W_pos, W_pos), (model.W_U, W_U),
            (block.attn.W_Q, W_Q), (block.attn.W_K, W_K), (block.attn.W_V, W_V),
            (block.attn.W_O, W_O), (block.mlp.W_in, W_in), (block.mlp.W_out, W_out),
        ):  # fmt: skip
            param.copy_(torch.tensor(value))
        block.mlp.b_in.zero_()
        block.mlp.b_out.zero_()
    return model


def standard_matrices(group) -> np.ndarray:
    """(|G|, k−1, k−1): the standard representation of a group of permutations of k points —
    the permutation matrices restricted to the vectors whose entries sum to 0, in an
    orthonormal basis of that subspace (irreducible for S_k)."""
    perms = np.array(group.elements)  # (|G|, k): element g sends point i to perms[g, i]
    k = perms.shape[1]
    P = np.zeros((len(perms), k, k))
    P[np.arange(len(perms))[:, None], perms, np.arange(k)[None, :]] = 1.0  # P(g) e_i = e_g(i)
    Q = np.linalg.qr(np.eye(k) - 1.0 / k)[0][:, : k - 1]  # orthonormal basis of Σ v = 0
    return np.einsum("ai,gab,bj->gij", Q, P, Q)


def group_mlp(group, matrices: np.ndarray, scale: float = 5.0):
    """A :class:`neural.models.MLP` computing ``logits = scale · tr ρ(x)ρ(y)ρ(c)ᵀ =
    scale · χ_ρ(x·y·c⁻¹)`` for an orthogonal representation given by its ``matrices``
    (|G|, d, d): the embedding writes the entries of ρ(x) and ρ(y), the quadratic neurons
    form every product ρ(x)_ij ρ(y)_jk (as ((a + b)² − (a − b)²) / 4), which sum to the entries
    of ρ(x)ρ(y) = ρ(x·y), and the unembedding reads them against ρ(c)."""
    from neural.models import ModelConfig, build_model

    n, d = len(matrices), matrices.shape[1]
    triples = [(i, j, k) for i in range(d) for j in range(d) for k in range(d)]
    model = build_model(
        ModelConfig(kind="mlp", d_model=d * d, d_mlp=2 * len(triples), act="quadratic",
                    combine="concat"), n,
    )  # fmt: skip
    E = matrices.reshape(n, d * d)  # entry (i, j) at column i·d + j
    W_in = np.zeros((2 * d * d, 2 * len(triples)))
    W_out = np.zeros((2 * len(triples), d * d))  # to the entries (i, k) of ρ(x)ρ(y)
    for t, (i, j, k) in enumerate(triples):
        a, b = i * d + j, d * d + j * d + k  # ρ(x)_ij in the x half, ρ(y)_jk in the y half
        W_in[[a, b], 2 * t] = 1.0
        W_in[a, 2 * t + 1], W_in[b, 2 * t + 1] = 1.0, -1.0
        W_out[2 * t, i * d + k], W_out[2 * t + 1, i * d + k] = 0.25, -0.25
    U = scale * matrices.reshape(n, d * d).T  # (d², n): entry (i, k) read against ρ(c)_ik
    with torch.no_grad():
        model.E_x.copy_(torch.tensor(E))
        model.E_y.copy_(torch.tensor(E))
        model.W_in.copy_(torch.tensor(W_in))
        model.W_U.copy_(torch.tensor(W_out @ U))
    return model
