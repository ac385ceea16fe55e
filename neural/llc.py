"""The local learning coefficient λ̂: a network's complexity read from its weights alone.

Singular learning theory (Watanabe) measures a model's complexity near a parameter w* by the
learning coefficient λ: the volume of {w : L(w) − L(w*) < ε} shrinks like ε^λ as ε → 0. A
regular model with d parameters has λ = d/2; a singular one — a network, whose weights have
many directions that change nothing — has less, and a network that implements a short
program should have less still than one that memorized a table. Lau et al. 2023 ("The local
learning coefficient: a singularities-aware complexity measure") estimate it at w* from the
tempered posterior localized there,

    p(w) ∝ exp(−nβ L_n(w) − γ/2 ‖w − w*‖²),        λ̂ = nβ (E_p[L_n(w)] − L_n(w*)),

with L_n the mean loss (negative log-likelihood) over the n training samples, inverse
temperature nβ = n / log n (β = 1/log n, Watanabe's WBIC temperature) and γ a localization
strength that keeps the samples near w*. The expectation is taken by stochastic-gradient
Langevin dynamics (SGLD), a chain of steps

    w ← w − (ε/2) (nβ ∇L_n(w) + γ (w − w*)) + N(0, ε I),

whose draws after ``burnin`` steps are samples of p (for small step ε). Why each piece:

* **full-batch gradients and L_n(w*)** — the training sets here are a few thousand pairs at
  most, so every step uses the whole training loss; the devinterp library's users report
  noisy estimates when L_n(w*) is taken from a minibatch, and a full batch costs no more
  here than the forward pass the trainer already does;
* **localization γ** — without it the chain walks along the network's flat directions far
  from w* (where another, lower-loss solution may lie) and λ̂ is no longer *local*;
* **diagnostics** — each chain's loss trace is kept; a chain whose loss is not finite, or
  rises above a ceiling (for a classifier, the loss of a uniform guess: the chain has left
  w*'s basin altogether), or whose estimate exceeds d — twice the d/2 that bounds the
  learning coefficient of any model with d parameters — *diverged*; λ̂ < 0 means the chain found lower loss than w* — w* is
  not a local minimum at this temperature; and λ̂ over the first half of the draws against
  λ̂ over all of them says whether doubling the draws moves the estimate by more than
  :data:`STABLE` (relative; a change under :data:`RESOLVED` is too small to count — a
  network whose λ̂ is 0.01 over half the draws and 0.02 over all is "about 0" either way).
  Any of these is a warning, and then there is no number for a
  verdict to rest on (:attr:`LLCEstimate.trusted`).

The defaults (:class:`LLCConfig`) were chosen by a calibration on the project's networks,
recorded in ``docs/llc.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from taskcore.errors import TaskError
from taskcore.events import LLC_RESOLVED as RESOLVED  # … and the smallest change that counts
from taskcore.events import LLC_STABLE as STABLE  # half the draws against all: the tolerance
from taskcore.serial import JsonMixin


@dataclass(frozen=True)
class LLCConfig(JsonMixin):
    """SGLD's settings. ``nbeta`` None: n / log n. ``step`` is ε, ``localization`` γ."""

    chains: int = 2
    draws: int = 60
    burnin: int = 40
    step: float = 1e-4
    localization: float = 1000.0
    nbeta: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        checks = [
            (self.chains >= 1, f"chains must be ≥ 1, got {self.chains}"),
            (self.draws >= 2, f"draws must be ≥ 2, got {self.draws}"),
            (self.burnin >= 0, f"burnin must be ≥ 0, got {self.burnin}"),
            (math.isfinite(self.step) and self.step > 0, f"step must be > 0, got {self.step}"),
            (math.isfinite(self.localization) and self.localization >= 0,
             f"localization must be ≥ 0, got {self.localization}"),
            (self.nbeta is None or (math.isfinite(self.nbeta) and self.nbeta > 0),
             f"nbeta must be > 0, got {self.nbeta}"),
        ]  # fmt: skip
        for ok, message in checks:
            if not ok:
                raise TaskError(message)

    def inverse_temperature(self, n: int) -> float:
        """nβ: as given, or Watanabe's n / log n."""
        return self.nbeta if self.nbeta is not None else n / math.log(n)

    @property
    def steps(self) -> int:
        return self.chains * (self.burnin + self.draws)


@dataclass(frozen=True)
class LLCEstimate(JsonMixin):
    """λ̂ at one w*, with what a reader needs to trust it (or not)."""

    llc: float  # the mean of the chains' estimates (NaN where a chain diverged)
    llc_chains: list[float]  # each chain's nβ (mean draw loss − L(w*))
    llc_half: float  # the same from the first half of each chain's draws
    loss_start: float  # L_n(w*)
    nbeta: float
    n: int
    traces: list[list[float]] = field(default_factory=list)  # per chain, every step's L_n(w)
    warnings: list[str] = field(default_factory=list)

    @property
    def trusted(self) -> bool:
        """A number a verdict may use: no chain diverged, λ̂ ≥ 0, stable under doubling."""
        return not self.warnings

    def json_derived(self) -> dict:
        return {"trusted": self.trusted}


def _flat(params: list[Tensor]) -> Tensor:
    return torch.cat([p.detach().reshape(-1) for p in params])


def estimate_llc(
    model: nn.Module,
    loss: Callable[[nn.Module], Tensor],
    n: int,
    config: LLCConfig | None = None,
    ceiling: float | None = None,
) -> LLCEstimate:
    """λ̂ of ``model`` at its current weights w* (module docstring).

    ``loss(model)`` is the mean training loss L_n at the model's current weights (a scalar
    with a gradient), over the ``n`` training samples. The model's weights are restored
    afterwards; the estimate is deterministic for a given ``config.seed``. A chain whose loss
    is not finite, or exceeds ``ceiling`` (for a classifier: log of the number of classes, the
    loss of a uniform guess — a chain above it has left w*'s basin altogether), diverged; where
    w* itself is no better than that (an untrained network) the ceiling is twice L(w*).
    """
    config = config or LLCConfig()
    nbeta = config.inverse_temperature(n)
    params = [p for p in model.parameters() if p.requires_grad]
    dimension = sum(p.numel() for p in params)  # λ ≤ d/2: a chain above twice that diverged
    start = [p.detach().clone() for p in params]
    eps, gamma = config.step, config.localization
    with torch.no_grad():
        loss_start = float(loss(model))
    limit = math.inf if ceiling is None else max(ceiling, 2 * loss_start)
    traces, chains, halves, warnings = [], [], [], []
    try:
        for chain in range(config.chains):
            gen = torch.Generator(device=start[0].device).manual_seed(
                config.seed * 10_007 + chain)  # fmt: skip
            with torch.no_grad():
                for p, p0 in zip(params, start, strict=True):
                    p.copy_(p0)
            trace: list[float] = []
            for _ in range(config.burnin + config.draws):
                value = loss(model)
                trace.append(float(value.detach()))
                if not math.isfinite(trace[-1]) or trace[-1] > limit:
                    break
                grads = torch.autograd.grad(value, params)
                with torch.no_grad():
                    for p, p0, g in zip(params, start, grads, strict=True):
                        noise = torch.randn(p.shape, generator=gen, device=p.device, dtype=p.dtype)
                        p.add_(-(eps / 2) * (nbeta * g + gamma * (p - p0)) + math.sqrt(eps) * noise)
            traces.append(trace)
            draws = trace[config.burnin :]
            mean = sum(draws) / len(draws) if len(draws) == config.draws else float("nan")
            half = draws[: max(1, config.draws // 2)]
            if not math.isfinite(mean) or nbeta * (mean - loss_start) > dimension:
                warnings.append(f"chain {chain} diverged (its loss reached {max(trace):.3g} by SGLD "
                                f"step {len(trace)}; try a smaller step)")  # fmt: skip
                chains.append(float("nan"))
                halves.append(float("nan"))
                continue
            chains.append(nbeta * (mean - loss_start))
            halves.append(nbeta * (sum(half) / len(half) - loss_start))
    finally:
        with torch.no_grad():
            for p, p0 in zip(params, start, strict=True):
                p.copy_(p0)
    llc = sum(chains) / len(chains)
    llc_half = sum(halves) / len(halves)
    if math.isfinite(llc):
        if llc < 0:
            warnings.append(f"λ̂ = {llc:.3g} < 0: the chains found lower loss than w*, which is "
                            "not a local minimum at this temperature")  # fmt: skip
        elif abs(llc - llc_half) > max(STABLE * abs(llc), RESOLVED):
            warnings.append(f"λ̂ moves from {llc_half:.3g} to {llc:.3g} when the draws are doubled "
                            f"(more than {STABLE:.0%}): more draws, or a longer burn-in")  # fmt: skip
    return LLCEstimate(llc, chains, llc_half, loss_start, nbeta, n, traces, warnings)


def training_llc(model: nn.Module, split, n_classes: int, config: LLCConfig | None = None
                 ) -> LLCEstimate:  # fmt: skip
    """λ̂ of a trained network at its current weights, on the training loss it was trained on:
    the mean cross-entropy over the split's training pairs (noisy labels where the task has
    noise), every pair in every step. A chain above log ``n_classes`` — worse than a uniform
    guess — has diverged."""
    device = next(model.parameters()).device
    x, y, out = (torch.as_tensor(a, dtype=torch.long, device=device)
                 for a in (split.x_train, split.y_train, split.out_train))  # fmt: skip

    def loss(m: nn.Module) -> Tensor:
        return F.cross_entropy(m(x, y), out)

    return estimate_llc(model, loss, split.n_train, config, ceiling=math.log(n_classes))


def reduced_rank_coefficient(true_rank: int, widths: list[int]) -> float:
    """The learning coefficient of a deep linear network x ↦ W_L … W_1 x at a true parameter
    of rank r (Aoyagi 2023, "Consideration on the learning efficiency of multiple-layered
    neural networks with linear units"), ``widths`` = [input, hidden…, output].

    With M_i = widths[i] − r, find the subset Σ of the indices (|Σ| = ℓ + 1 ≥ 2) with
    max_Σ M < min_{not Σ} M, Σ_Σ M ≥ ℓ max_Σ M and Σ_Σ M < ℓ min_{not Σ} M; with
    s = Σ_Σ M, M̄ = ⌈s/ℓ⌉ and a = s − (M̄ − 1)ℓ,

        λ = (−r² + r(H_in + H_out))/2 + a(ℓ − a)/(4ℓ) − ℓ(ℓ − 1)/4 · (s/ℓ)²
            + ½ Σ_{i<j in Σ} M_i M_j.

    For one layer at full rank this is d/2 (a regular model); for two it is Aoyagi and
    Watanabe's reduced rank regression.
    """
    from itertools import combinations

    M = [w - true_rank for w in widths]
    for size in range(2, len(M) + 1):
        for subset in combinations(range(len(M)), size):
            inside = [M[i] for i in subset]
            outside = [M[i] for i in range(len(M)) if i not in subset]
            ell, s = size - 1, sum(inside)
            if outside and not max(inside) < min(outside):
                continue
            if not s >= ell * max(inside):
                continue
            if outside and not s < ell * min(outside):
                continue
            m_bar = math.ceil(s / ell)
            a = s - (m_bar - 1) * ell
            pairs = sum(inside[i] * inside[j] for i in range(size) for j in range(i + 1, size))
            return ((-true_rank**2 + true_rank * (widths[0] + widths[-1])) / 2
                    + a * (ell - a) / (4 * ell) - ell * (ell - 1) / 4 * (s / ell) ** 2
                    + pairs / 2)  # fmt: skip
    raise ValueError(f"no subset satisfies Aoyagi's conditions for widths {widths}, r {true_rank}")
