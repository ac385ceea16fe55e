"""The local learning coefficient estimator against models whose learning coefficient is
known in closed form, and on trained networks where it must come out the right way round."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn

from neural.llc import LLCConfig, estimate_llc, reduced_rank_coefficient
from taskcore.errors import TaskError


def regression(d: int, n: int, seed: int = 0):
    """Linear regression y = w·x + N(0, 1) with its loss ½ mean (y − w·x)² (the negative
    log-likelihood up to a constant) and the model at the least-squares minimum w*."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=gen, dtype=torch.float64)
    y = X @ torch.randn(d, 1, generator=gen, dtype=torch.float64)
    y = y + torch.randn(n, 1, generator=gen, dtype=torch.float64)
    model = nn.Linear(d, 1, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(torch.linalg.lstsq(X, y).solution.T)
    return model, (lambda m: 0.5 * ((m(X) - y) ** 2).mean()), X.T @ X / n


def localized_gaussian_llc(hessian: torch.Tensor, nbeta: float, gamma: float) -> float:
    """For a quadratic loss L(w*) + ½ (w − w*)ᵀ H (w − w*), the localized posterior is a
    Gaussian of precision nβH + γI centred on w*, so E[L] − L(w*) = ½ tr(H (nβH + γI)⁻¹) and

        λ̂ = ½ Σ_i nβ h_i / (nβ h_i + γ)      over H's eigenvalues h_i,

    which is d/2 at γ = 0 (a regular model) and less as γ grows."""
    h = torch.linalg.eigvalsh(hessian)
    return float(0.5 * (nbeta * h / (nbeta * h + gamma)).sum())


SAMPLER = dict(chains=4, draws=400, burnin=100, step=2e-4)


@pytest.mark.parametrize("gamma_per_nbeta", [0.0, 1.0])
def test_regular_model_has_half_its_dimension(gamma_per_nbeta):
    """λ = d/2 for linear regression (γ = 0); with γ = nβ the localized answer is about d/4 —
    so a sampler that dropped the localization term would be caught here."""
    d, n = 10, 2000
    model, loss, hessian = regression(d, n)
    nbeta = n / math.log(n)
    gamma = gamma_per_nbeta * nbeta
    est = estimate_llc(model, loss, n, LLCConfig(**SAMPLER, localization=gamma))
    expected = localized_gaussian_llc(hessian, nbeta, gamma)
    assert expected == pytest.approx(d / 2 if gamma == 0 else d / 4, rel=0.1)
    assert est.llc == pytest.approx(expected, rel=0.1)
    assert est.trusted, est.warnings


def test_estimate_leaves_the_weights_and_is_deterministic():
    model, loss, _ = regression(4, 200)
    before = model.weight.detach().clone()
    a = estimate_llc(model, loss, 200, LLCConfig(**SAMPLER, localization=0.0, seed=3))
    b = estimate_llc(model, loss, 200, LLCConfig(**SAMPLER, localization=0.0, seed=3))
    assert torch.equal(model.weight, before)
    assert a.llc == b.llc and a.traces == b.traces
    assert len(a.traces) == 4 and all(len(t) == 500 for t in a.traces)


def deep_linear(widths: list[int], rank: int, n: int, seed: int = 0):
    """A deep linear network x ↦ W_L … W_1 x at a true parameter whose product has rank
    ``rank`` (the first layer's), with n samples y = f(x) + N(0, I)."""
    gen = torch.Generator().manual_seed(seed)
    layers = [nn.Linear(a, b, bias=False).double() for a, b in itertools.pairwise(widths)]
    with torch.no_grad():
        for layer in layers:
            fan_in = layer.weight.shape[1]
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen,
                                           dtype=torch.float64) / math.sqrt(fan_in))  # fmt: skip
        out, fan_in = layers[0].weight.shape
        u = torch.randn(out, rank, generator=gen, dtype=torch.float64)
        v = torch.randn(rank, fan_in, generator=gen, dtype=torch.float64)
        layers[0].weight.copy_(u @ v / math.sqrt(fan_in * rank))
    net = nn.Sequential(*layers)
    X = torch.randn(n, widths[0], generator=gen, dtype=torch.float64)
    with torch.no_grad():
        y = net(X) + torch.randn(n, widths[-1], generator=gen, dtype=torch.float64)
    return net, lambda m: 0.5 * ((m(X) - y) ** 2).sum(dim=1).mean()


def test_aoyagi_formula_on_known_cases():
    """One layer at full rank is regular (d/2); two layers are Aoyagi and Watanabe's reduced
    rank regression, λ = [2(H + r)(M + N) − (M − N)² − (H + r)²]/8 when M + H + N + r is even
    and the three triangle conditions hold."""
    assert reduced_rank_coefficient(3, [3, 4]) == 6.0
    M, H, N, r = 5, 4, 3, 2
    rrr = (2 * (H + r) * (M + N) - (M - N) ** 2 - (H + r) ** 2) / 8
    assert reduced_rank_coefficient(r, [M, H, N]) == rrr == 7.0
    # a singular model: its coefficient is well below half its parameter count
    assert reduced_rank_coefficient(2, [6, 5, 4, 3]) < (30 + 20 + 12) / 2 / 3


@pytest.mark.parametrize("widths, rank", [([5, 4, 3], 2), ([4, 3, 4], 1), ([6, 5, 4, 3], 2)])
def test_deep_linear_network_matches_aoyagi(widths, rank):
    """The check Lau et al. make: λ̂ of a deep linear network within 25% of Aoyagi's λ, and
    far from the d/2 a regular model of its size would have."""
    n = 2000
    net, loss = deep_linear(widths, rank, n)
    est = estimate_llc(net, loss, n, LLCConfig(chains=4, draws=300, burnin=200, step=3e-4,
                                               localization=0.0))  # fmt: skip
    expected = reduced_rank_coefficient(rank, widths)
    d = sum(a * b for a, b in itertools.pairwise(widths))
    assert est.llc == pytest.approx(expected, rel=0.25)
    assert abs(est.llc - expected) < abs(est.llc - d / 2) / 3


def test_a_step_too_large_diverges_and_says_so():
    model, loss, _ = regression(10, 2000)
    est = estimate_llc(model, loss, 2000, LLCConfig(chains=2, draws=50, burnin=10, step=0.1,
                                                    localization=0.0))  # fmt: skip
    assert not est.trusted
    assert math.isnan(est.llc)
    assert any("diverged" in w for w in est.warnings)


def test_a_point_that_is_not_a_minimum_gives_a_negative_estimate_and_a_warning():
    """Away from the minimum (say, a weight-decayed checkpoint), the unlocalized chain runs
    down the loss and λ̂ < 0 — no number a verdict may use."""
    model, loss, _ = regression(10, 2000)
    with torch.no_grad():
        model.weight.mul_(0.8)
    est = estimate_llc(model, loss, 2000, LLCConfig(**SAMPLER, localization=0.0))
    assert est.llc < 0 and not est.trusted
    assert any("< 0" in w for w in est.warnings)


def test_too_few_draws_to_settle_is_flagged():
    """A chain still climbing from w* when it stops: the first half of its draws disagrees
    with all of them, and the estimate is not trusted."""
    model, loss, _ = regression(10, 2000)
    est = estimate_llc(model, loss, 2000, LLCConfig(chains=1, draws=20, burnin=0, step=2e-5,
                                                    localization=0.0))  # fmt: skip
    assert not est.trusted
    assert any("doubled" in w for w in est.warnings)


@pytest.mark.parametrize("bad", [dict(chains=0), dict(draws=1), dict(burnin=-1), dict(step=0.0),
                                 dict(step=float("nan")), dict(localization=-1.0),
                                 dict(nbeta=0.0), dict(nbeta=float("inf"))])  # fmt: skip
def test_bad_settings_are_task_errors(bad):
    with pytest.raises(TaskError):
        LLCConfig(**bad)


def test_llc_steps_keep_the_marks_and_spread_the_rest_over_log_steps():
    from compare.llc import llc_steps

    steps = [0, 1, 2, 3, 5, 8, 12, 20, 33, 50, 80, 130, 200, 330, 500, 800, 1000]
    chosen = llc_steps(steps, marks=[0, 50, 1000], count=6)
    assert len(chosen) == 6 and {0, 50, 1000} <= set(chosen) and chosen == sorted(chosen)
    assert set(chosen) <= set(steps)
    # every gap in log(step + 1) is at most twice the smallest possible even spacing
    gaps = [math.log1p(b) - math.log1p(a) for a, b in itertools.pairwise(chosen)]
    assert max(gaps) <= 2 * math.log1p(1000) / 5
    assert llc_steps(steps[:4], marks=[3], count=6) == steps[:4]  # fewer than asked: all
    assert llc_steps(steps, marks=[7, 0], count=2) == [0, 1000]  # not a checkpoint: skipped
    assert llc_steps(steps, marks=[0, 50], count=1) == [1000]  # the last one comes first


def test_the_cli_names_the_calibrated_defaults():
    """--help states the sampler's defaults without importing torch; they must be the ones
    the estimator uses."""
    from dataclasses import asdict

    from compare.llc import CHECKPOINTS
    from synthcmp.ui import LLC_CHECKPOINTS, LLC_DEFAULTS

    defaults = asdict(LLCConfig())
    assert {k: defaults[k] for k in LLC_DEFAULTS} == LLC_DEFAULTS
    assert LLC_CHECKPOINTS == CHECKPOINTS


def test_the_phases_table_marks_what_is_not_trusted():
    from synthcmp.render.compare import llc_cell

    assert llc_cell({"llc": 12.34, "trusted": True}) == "12.3"
    assert llc_cell({"llc": -1.5, "trusted": False, "warnings": ["λ̂ < 0"]}) == "(-1.5)"
    assert llc_cell({"llc": None, "trusted": False}) == "diverged"
    assert llc_cell(None) == "–"
