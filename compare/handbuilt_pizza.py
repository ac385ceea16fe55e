"""Networks wired by hand to run the Clock or the Pizza algorithm (Zhong et al. 2023):
ground truth for telling the two apart.

Both algorithms embed each residue t on circles, ``E_t = (cos ω_k t, sin ω_k t)`` for a few
key frequencies k (ω_k = 2πk/n), and both answer a + b. They differ in how the two inputs
meet:

* **Clock** — the angles are *added*: the network multiplies the two embeddings
  (cos ω(a + b) = cos ωa cos ωb − sin ωa sin ωb) and reads

      logit(c) = Σ_k cos(ω_k(a + b − c)),

  so the correct logit is the same for every pair. Here the Clock networks are the Fourier
  networks of :mod:`compare.handbuilt` (exact products from squares, a·b = ((a+b)² − (a−b)²)/4).
* **Pizza** — the embeddings are *averaged* first, h = E_a + E_b, which points at the
  angle ω(a + b)/2 with length 2|cos(ω(a − b)/2)|, and a nonlinearity of h then doubles the
  angle. With quadratic neurons n_j(h) = (cos θ_j, sin θ_j)·h at 2θ_j = 2πj/J (J = 4 per
  frequency), (n_j·h)² = ½|h|² (1 + cos(ω(a + b) − 2θ_j)), and the readout
  W_U[j, c] = cos(ω_k c − 2θ_j) sums them to

      logit(c) = Σ_k (J/2) (1 + cos ω_k(a − b)) · cos(ω_k(a + b − c)):

  still largest at c = a + b (every weight 1 + cos ω_k(a − b) is positive for odd n), but the
  correct logit now depends on the *distance* a − b — the Pizza's slices.

:func:`pizza_mlp` is an :class:`neural.models.MLP` with summed embeddings (Gromov's network,
``combine="sum"``); :func:`pizza_transformer` a one-layer :class:`neural.models.Transformer`
whose one working head attends half to x and half to y, so it writes the average of the two
embeddings — the constant attention that makes Zhong et al.'s transformers Pizzas.
"""

from __future__ import annotations

import numpy as np
import torch

from compare.handbuilt import _waves, fourier_mlp, fourier_transformer, set_transformer_weights

NEURONS = 4  # J: quadratic neurons per key frequency, at 2θ_j = 2πj/J


def clock_mlp(n: int, key: list[int], scale: float = 5.0):
    """An MLP running the Clock: ``logits = scale · Σ_k cos(ω_k(x + y − c))``."""
    return fourier_mlp(n, key, scale=scale)


def clock_transformer(n: int, key: list[int], scale: float = 5.0):
    """A one-layer transformer running the Clock (heads copy x and y apart; the MLP multiplies)."""
    return fourier_transformer(n, key, scale=scale)


def _pizza_neurons(K: int, scale: float, n: int, key: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """W_in (2K → J·K): neuron j of frequency i reads (cos θ_j, sin θ_j) of that frequency's
    two channels; W_U (J·K → n): ``scale · cos(ω_k c − 2θ_j)``."""
    J = NEURONS
    W_in = np.zeros((2 * K, J * K))
    W_U = np.zeros((J * K, n))
    c = np.arange(n)
    for i, k in enumerate(key):
        for j in range(J):
            theta = np.pi * j / J  # 2θ_j = 2πj/J
            W_in[2 * i, J * i + j], W_in[2 * i + 1, J * i + j] = np.cos(theta), np.sin(theta)
            W_U[J * i + j] = scale * np.cos(2 * np.pi * k * c / n - 2 * theta)
    return W_in, W_U


def pizza_mlp(n: int, key: list[int], scale: float = 1.0):
    """An MLP running the Pizza: ``logits = scale · Σ_k 2(1 + cos ω_k(x − y)) cos(ω_k(x + y − c))``."""
    from neural.models import ModelConfig, build_model

    K = len(key)
    model = build_model(
        ModelConfig(kind="mlp", d_model=2 * K, d_mlp=NEURONS * K, act="quadratic", combine="sum"), n
    )
    W_in, W_U = _pizza_neurons(K, scale, n, key)
    E = _waves(n, key)
    with torch.no_grad():
        model.E_x.copy_(torch.tensor(E))
        model.E_y.copy_(torch.tensor(E))
        model.W_in.copy_(torch.tensor(W_in))
        model.W_U.copy_(torch.tensor(W_U))
    return model


def pizza_transformer(n: int, key: list[int], scale: float = 1.0):
    """A one-layer transformer running the Pizza: head 0 attends equally to x and y (its query
    at "=" meets a large negative key at "="), so it writes ½(E_a + E_b); the quadratic MLP and
    the unembedding then compute ``scale · Σ_k (1 + cos ω_k(x − y)) cos(ω_k(x + y − c))``.

    Residual channels: [T: 2K raw waves | A: 2K averaged waves | tag x, tag y, tag = | U: 2 per
    neuron group]. Heads 1–3 read nothing.
    """
    from neural.models import ModelConfig, build_model

    K, J = len(key), NEURONS
    T, A, TAG, U = 0, 2 * K, 4 * K, 4 * K + 3
    d = -(-(U + J * K) // 4) * 4  # a multiple of the 4 heads
    d_head = d // 4
    assert d_head >= 2 * K
    model = build_model(
        ModelConfig(kind="transformer", d_model=d, n_heads=4, d_mlp=J * K, act="quadratic"), n
    )
    W_E = np.zeros((n + 1, d))
    W_E[:n, T : T + 2 * K] = _waves(n, key)
    W_pos = np.zeros((3, d))
    W_pos[0, TAG], W_pos[1, TAG + 1], W_pos[2, TAG + 2] = 1.0, 1.0, 1.0
    W_Q, W_K, W_V, W_O = (np.zeros((d, d)) for _ in range(4))
    W_Q[TAG + 2, 0] = 1.0  # the query at "=" ...
    W_K[TAG + 2, 0] = -1e3  # ... meets a large negative key at "=" only: ½ to x, ½ to y
    W_V[T : T + 2 * K, : 2 * K] = np.eye(2 * K)
    W_O[: 2 * K, A : A + 2 * K] = 2 * np.eye(2 * K)  # A = E_a + E_b
    W_in_small, W_U_small = _pizza_neurons(K, scale, n, key)
    W_in = np.zeros((d, J * K))
    W_in[A : A + 2 * K] = W_in_small
    W_out = np.zeros((J * K, d))
    W_out[:, U : U + J * K] = np.eye(J * K)  # each neuron to its own channel ...
    W_U = np.zeros((d, n))
    W_U[U : U + J * K] = W_U_small  # ... read out as cos(ω_k c − 2θ_j)
    return set_transformer_weights(model, W_E, W_pos, W_Q, W_K, W_V, W_O, W_in, W_out, W_U)
