"""Run a network once on every input and keep what the analysis reads.

Everything in compare/ is a function of the network's behaviour on the *whole* table, so
the model is evaluated on all n² pairs in one batch (row-major: input ``x·n + y``), with
its named activation cache. Activations are read by name only (``mlp.post``,
``resid.final``, …), never by reaching into modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

NEURON_LAYER = "mlp.post"  # the MLP neurons whose frequencies are clustered


@dataclass
class Probe:
    """A network seen on every input: logits, activations, embedding."""

    logits: np.ndarray  # (n, n, n): logits[x, y, c]
    layers: dict[str, np.ndarray]  # name → (n², features): each activation flattened per input
    embedding: np.ndarray  # (n, d): row t is what symbol t writes (x and y side by side)
    neurons: np.ndarray | None  # (n, n, d_mlp): the NEURON_LAYER activations, if any

    @property
    def prediction(self) -> np.ndarray:
        """(n, n) argmax of the logits."""
        return self.logits.argmax(axis=2)


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch CPU threads, then restore the previous setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def all_inputs(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every pair (x, y) in row-major order."""
    x = torch.arange(n).repeat_interleave(n)
    y = torch.arange(n).repeat(n)
    return x, y


def weight_norm(model: torch.nn.Module) -> float:
    """‖θ‖₂ over all trainable parameters."""
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    return float(torch.linalg.vector_norm(flat.double()))


@torch.no_grad()
def probe(model: torch.nn.Module, n: int, with_cache: bool = True) -> Probe:
    """Evaluate ``model`` on all n² inputs in one batch (float32 activations, float64 logits)."""
    model.eval()
    device = next(model.parameters()).device
    x, y = (t.to(device) for t in all_inputs(n))
    if with_cache:
        logits, cache = model.run_with_cache(x, y)
    else:
        logits, cache = model(x, y), {}
    layers = {
        name: t.detach().float().reshape(n * n, -1).cpu().numpy()
        for name, t in cache.items()
        if t.ndim >= 1 and t.shape[0] == n * n
    }
    emb = [model.embedding_matrix(w).detach().double().cpu().numpy() for w in ("x", "y")]
    embedding = emb[0] if np.array_equal(emb[0], emb[1]) else np.concatenate(emb, axis=1)
    neurons = layers.get(NEURON_LAYER)
    return Probe(
        logits=logits.detach().double().cpu().numpy().reshape(n, n, n),
        layers=layers,
        embedding=embedding,
        neurons=None if neurons is None else neurons.reshape(n, n, -1),
    )
