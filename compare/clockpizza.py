"""Clock or Pizza? Zhong et al. 2023's two measures of how a network adds on circles.

A network that groks modular addition puts each residue on circles (ω_k = 2πk/n). Zhong
et al. ("The Clock and the Pizza") found two algorithms that then differ in how the two
inputs a, b meet (:mod:`compare.handbuilt_pizza` wires one of each by hand):

* the **Clock** multiplies the embeddings, adding the angles: logit(c) ∝ Σ_k cos(ω_k(a + b − c));
* the **Pizza** averages them first, E_a + E_b, and a nonlinearity doubles the half-angle:
  logit(c) ∝ Σ_k |cos(ω_k(a − b)/2)| cos(ω_k(a + b − c)) (ReLU; (1 + cos ω_k(a − b)) with
  squares).

Two measures tell them apart (definitions as in the paper's code):

* **distance irrelevance** — how little the *correct* logit Q(a, b) = logit_{a+b}(a, b)
  depends on the distance a − b. With the correct logits arranged by s = a + b and
  d = a − b,

      DI = mean_d std_s Q[s, d] / std Q,

  near 1 for the Clock (Q is the same along every d) and near 0 for the Pizza (Q is a
  function of d). A constant Q (spread under 0.1% of all the logits') depends on no
  distance: DI = 1.
* **gradient symmetricity** — whether the logit depends on the two inputs only through
  their sum E_a + E_b: for random (a, b, c), a ≠ b, the cosine similarity of the gradients
  of logit_c with respect to what input a and what input b write,

      GS = mean cos(∂Q_c/∂e_a, ∂Q_c/∂e_b),

  1 for the Pizza (both gradients are ∂Q/∂(E_a + E_b)); for the Clock the two are the
  embeddings' reflection, M E_b and M E_a, with cosine cos ω(a − b): near 0 on average.
  Zhong et al. differentiate with respect to the shared token embedding. Here the gradient
  is taken with respect to each input's *one-hot symbol* (the embedding row's gradient
  pulled back through the embedding table, a vector over the n symbols); for a shared
  embedding the two agree.

The classification (thresholds below, checked on the hand-built networks): **Clock** when
DI ≥ :data:`DI_CLOCK` and GS < :data:`GS_PIZZA`; **Pizza** when GS ≥ :data:`GS_PIZZA` and
DI < :data:`DI_CLOCK`; otherwise **neither** (both or neither signature: a mixture, or
another algorithm). Only for a circuit read over Z_n with u = ±x ± y (the addition the two
algorithms implement); elsewhere the measures are not computed and it says why.

**Where a measure cannot fail, it is not evidence.** In a transformer with *constant
attention* (attention rate 0, Zhong et al.'s Pizza-maker) the "=" position averages what x
and y write before anything else sees them: the inputs meet as E_a + E_b by construction, so
GS = 1 whatever the network learned, and only DI tells the Pizza from "neither" (the Clock is
ruled out by the architecture). In a trained MLP the two inputs are written through two separate
tables (E_x, E_y) whose coordinates have nothing in common, so their gradients cannot be
compared fairly: there Clock and Pizza are not read at all, and ``why`` says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from taskcore.events import (  # one definition, shared with the glossary
    DI_CLOCK,
    GS_PIZZA,
    BasisKind,
)
from taskcore.serial import JsonMixin

# DI_CLOCK: distance irrelevance at or above it, the correct logit ignores a − b (half-way
# between the pure Pizza, 0, and the pure Clock, 1); GS_PIZZA: gradient symmetricity at or
# above it, the inputs meet as E_a + E_b
SAMPLES = 512  # (a, b, c) triples for the gradient symmetricity
CONSTANT = 1e-3  # a correct logit whose spread is below this share of all logits' is constant
CLOCK, PIZZA, NEITHER = "clock", "pizza", "neither"
FORMS = ("x + y", "x - y", "y - x", "-x - y")


@dataclass(frozen=True)
class ClockPizza(JsonMixin):
    """The two measures and the algorithm they point to ("clock", "pizza", "neither", or ""
    with ``why`` when the measures do not apply)."""

    algorithm: str
    distance_irrelevance: float = float("nan")
    gradient_symmetricity: float = float("nan")
    why: str = ""


def classify(distance_irrelevance: float, gradient_symmetricity: float) -> str:
    di, gs = distance_irrelevance, gradient_symmetricity
    if not (math.isfinite(di) and math.isfinite(gs)):
        return NEITHER
    if di >= DI_CLOCK and gs < GS_PIZZA:
        return CLOCK
    if gs >= GS_PIZZA and di < DI_CLOCK:
        return PIZZA
    return NEITHER


def distance_irrelevance(logits: np.ndarray, table: np.ndarray, node: str = "x + y") -> float:
    """DI = mean_d std_s Q[s, d] / std Q of the correct logits Q(a, b) = logits[a, b, f(a, b)].

    ``logits`` (n, n, n) over every input, ``table`` (n, n) the right answers. s is the
    circuit's u (``node``) and d the other combination of a and b: a − b for u = ±(x + y),
    a + b for u = ±(x − y).
    """
    logits = np.asarray(logits, dtype=np.float64)
    n = logits.shape[0]
    a, b = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    Q = np.take_along_axis(logits, table[:, :, None], axis=2)[:, :, 0]  # (n, n): correct logit
    plus = node in ("x + y", "-x - y")
    s, d = ((a + b) % n, (a - b) % n) if plus else ((a - b) % n, (a + b) % n)
    grid = np.zeros((n, n))
    grid[s, d] = Q  # row s, column d: each (s, d) is one input (a, b)
    spread = grid.std()
    if spread <= CONSTANT * logits.std():
        return 1.0  # the correct logit is constant (to float noise): it depends on no distance
    return float(grid.std(axis=0).mean() / spread)


def _tables(model) -> tuple[torch.Tensor, torch.Tensor]:
    """The (n, d) tables inputs x and y look up (the same one when shared)."""
    n = model.n
    if model.cfg.kind == "transformer":
        return model.W_E[:n], model.W_E[:n]
    return model.E_x[:n], model.E_y[:n]


def logits_of_embeddings(model, e_x: torch.Tensor, e_y: torch.Tensor) -> torch.Tensor:
    """(S, n) logits of the network given what x and y write, (S, d) each — the model's own
    blocks from there on (for the transformer the plain attention path, which a test holds
    equal to the lookup path the trainer uses)."""
    from neural.models import activation

    if model.cfg.kind == "transformer":
        eq = model.W_E[model.n].expand_as(e_x)
        resid = torch.stack([e_x, e_y, eq], dim=1) + model.W_pos  # (S, 3, d)
        for block in model.blocks[:-1]:
            resid = block(resid, False, None, "")
        return model.blocks[-1](resid, True, None, "") @ model.W_U
    h = torch.cat([e_x, e_y], dim=-1) if model.cfg.combine == "concat" else e_x + e_y
    return activation(model.cfg.act, h @ model.W_in) @ model.W_U


def gradient_symmetricity(model, n: int, samples: int = SAMPLES, seed: int = 0) -> float:
    """GS = mean over random (a, b, c), a ≠ b, of the cosine between the gradients of logit c
    with respect to input a's and input b's one-hot symbol (see the module docstring)."""
    rng = np.random.default_rng([seed, 0xC10C])
    a = rng.integers(n, size=samples)
    b = (a + rng.integers(1, n, size=samples)) % n  # b ≠ a, as in the paper's pairs
    c = rng.integers(n, size=samples)
    table_x, table_y = (t.detach() for t in _tables(model))
    device = table_x.device
    ta, tb, tc = (torch.as_tensor(v, device=device) for v in (a, b, c))
    e_x = table_x[ta].clone().requires_grad_()
    e_y = table_y[tb].clone().requires_grad_()
    with torch.enable_grad():
        logits = logits_of_embeddings(model, e_x, e_y)  # (S, n): samples are independent rows
        logits.gather(1, tc[:, None]).sum().backward()  # so each row's gradient is its own
    sx = (e_x.grad @ table_x.T).double()  # (S, n): pulled back to the n symbols
    sy = (e_y.grad @ table_y.T).double()
    norm = sx.norm(dim=1) * sy.norm(dim=1)
    ok = norm > 0
    if not ok.any():
        return float("nan")
    return float(((sx * sy).sum(dim=1)[ok] / norm[ok]).mean())


def clock_pizza(model, logits: np.ndarray, table: np.ndarray, basis: str | None,
                node: str | None, seed: int = 0) -> ClockPizza:  # fmt: skip
    """Both measures and the algorithm, for a network whose circuit is read over Z_n with
    u = ±x ± y (``basis`` "additive"); otherwise the reason they do not apply."""
    if basis is None:
        return ClockPizza("", why="no circuit: the network implements no addition on circles")
    if basis != BasisKind.ADDITIVE or node not in FORMS:
        return ClockPizza("", why=f"the circuit reads u = {node} over {basis}: Clock and Pizza "
                                  "are algorithms for ±x ± y over Z_n")  # fmt: skip
    n = table.shape[0]
    di = distance_irrelevance(logits, table, node)
    table_x, table_y = _tables(model)
    if not torch.equal(table_x, table_y):  # an MLP's two learned tables
        return ClockPizza("", di, float("nan"), why=(
            "not read: this MLP writes x and y through two separate embedding tables, so the "
            "gradients that gradient symmetricity compares share no coordinates"))  # fmt: skip
    gs = gradient_symmetricity(model, n, seed=seed)
    if model.cfg.kind == "transformer" and model.cfg.attention == "constant":
        return ClockPizza(classify(di, gs), di, gs, why=(
            "gradient symmetricity is 1 by construction here (constant attention averages the "
            "two embeddings): distance irrelevance alone decides, and the Clock is ruled out"))  # fmt: skip
    return ClockPizza(classify(di, gs), di, gs)
