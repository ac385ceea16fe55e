"""What one training step costs in floating-point operations, counted from the model's shapes.

A learner's cost to find a program is compared across learners in FLOPs as well as seconds:
seconds depend on the machine, FLOPs only on the model and the data. One full-batch training
step is a forward pass over the n training pairs and its backward pass; torch's
``FlopCounterMode`` counts the FLOPs of every matrix multiplication in both from the shapes of
its operands (a multiply-add is 2 FLOPs: an (m × k)·(k × n) product is 2mkn), with the model
moved to the *meta* device first, so nothing is computed. Elementwise work — activations,
softmax, layer norm, the loss, the optimizer's update — is not counted; for these models it is
a small fraction of the matrix products.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def step_flops(model: nn.Module, n_train: int) -> int:
    """FLOPs of one full-batch training step of ``model`` on ``n_train`` pairs (forward and
    backward, matrix products only; see the module docstring)."""
    if n_train <= 0:
        return 0
    shapes = copy.deepcopy(model).to("meta")
    x = torch.zeros(n_train, dtype=torch.long, device="meta")
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(shapes(x, x), x).backward()
    return int(counter.get_total_flops())
