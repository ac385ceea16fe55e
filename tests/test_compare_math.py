"""The math of compare/ on tensors built by hand: Fourier basis, discrete logs, the logit
model, restricted/excluded loss, η² and the spectrum score."""

from __future__ import annotations

import numpy as np
import pytest

from compare.basis import additive_basis, dlog_basis
from compare.circuit import Circuit
from compare.extract import extract_circuit
from compare.fourier import (
    fourier_basis,
    omega,
    primitive_root,
    spectrum,
    spectrum_2d,
)
from compare.logits import Node, fit_node, key_projection
from compare.match import LogitView
from compare.progress import ProgressPoint, detect_phases
from taskcore.registry import get_task


def fourier_logits(task, key, form=(1, 1), basis=None, noise=0.05, seed=0):
    """logit(x, y, c) = Σ_k cos(ω_k(u − c)) + noise, u = a·x + b·y on the basis positions.

    In the dlog basis the inputs with a 0 predict class 0 (logit 3 there)."""
    n = task.n
    basis = basis or additive_basis(n)
    pos, m = basis.position, basis.m
    x, y, c = np.meshgrid(np.arange(n), np.arange(n), np.arange(n), indexing="ij")
    u = form[0] * pos[x] + form[1] * pos[y]
    L = sum(np.cos(omega(k, m) * (u - pos[c])) for k in key)
    if basis.kind == "dlog":
        off = (x == 0) | (y == 0)
        L = np.where(off | (c == 0), 0.0, L) + 3.0 * (off & (c == 0))
    return 4 * L + noise * np.random.default_rng(seed).standard_normal(L.shape)


def split(task, frac=0.3):
    return task.split(frac)


@pytest.mark.parametrize("m", [7, 8, 23])
def test_fourier_basis_is_orthonormal_and_spectrum_is_parseval(m):
    B, freq, names = fourier_basis(m)
    assert np.allclose(B @ B.T, np.eye(m))
    assert len(names) == m and freq.max() == m // 2
    a = np.random.default_rng(0).standard_normal((m, 4, 3))
    coef = np.einsum("rx,x...->r...", B, a)
    by_hand = np.bincount(freq, (coef**2).reshape(m, -1).sum(axis=1))
    assert np.allclose(spectrum(a), by_hand)
    assert np.isclose(spectrum(a).sum(), (a**2).sum())
    a2 = np.random.default_rng(1).standard_normal((m, m, 2))
    coef2 = np.einsum("rx,sy,xy...->rs...", B, B, a2)
    grid = np.zeros((m // 2 + 1, m // 2 + 1))
    np.add.at(grid, (freq[:, None], freq[None, :]), (coef2**2).sum(axis=-1))
    assert np.allclose(spectrum_2d(a2), grid)


def test_a_wave_has_one_frequency():
    m, k = 23, 5
    x = np.arange(m)
    energy = spectrum(np.cos(omega(k, m) * x + 0.3))
    assert np.argmax(energy) == k and np.isclose(energy[k], energy.sum())


@pytest.mark.parametrize("p", [5, 23, 97])
def test_discrete_log_turns_products_into_sums(p):
    g = primitive_root(p)
    basis = dlog_basis(p)
    assert sorted(basis.residue.tolist()) == list(range(1, p))
    assert basis.position[0] == -1  # 0 has no logarithm
    i, j = np.meshgrid(np.arange(p - 1), np.arange(p - 1), indexing="ij")
    product = basis.residue[i] * basis.residue[j] % p
    assert np.array_equal(basis.position[product], (i + j) % (p - 1))
    assert g == basis.g


@pytest.mark.parametrize(
    "name, form, kind, text",
    [
        ("modadd", (1, 1), "additive", "x + y"),
        ("modsub", (1, -1), "additive", "x - y"),
        ("modmul", (1, 1), "dlog", "x * y"),
    ],
)
def test_extraction_recovers_hand_built_frequencies(name, form, kind, text):
    task = get_task(name, p=23)
    basis = dlog_basis(23) if kind == "dlog" else additive_basis(23)
    key = [2, 5, 9]
    logits = fourier_logits(task, key, form, basis)
    circuit = extract_circuit(logits, task, split(task))
    assert circuit.basis == kind and circuit.node == text
    assert sorted(circuit.key_frequencies) == key
    assert circuit.fve > 0.99 and circuit.faithfulness == 1.0 and circuit.found
    assert circuit.restricted_loss <= circuit.full_loss + 1e-3
    assert circuit.excluded_loss > 0.9 * circuit.chance_loss
    assert np.array_equal(circuit.predict(task)[task.domain], task.table[task.domain])
    assert circuit.dag().number_of_nodes() == 4 + 6 * len(key)
    assert Circuit.from_json(circuit.to_json()).to_json() == circuit.to_json()


def test_noise_has_no_circuit():
    task = get_task("modadd", p=23)
    logits = np.random.default_rng(3).standard_normal((23, 23, 23))
    circuit = extract_circuit(logits, task, split(task))
    assert circuit.key_frequencies == [] and not circuit.found


def test_restricted_projection_keeps_two_directions_per_key_frequency():
    """The pitfall: P_K must be rank 2|K| in the (x, y) plane, not an outer product of masks."""
    logits = np.random.default_rng(4).standard_normal((23, 23, 23))
    fit = fit_node(logits, Node(additive_basis(23), "x + y"), get_task("modadd", p=23))
    P = key_projection(fit, [3, 7], 23)  # (x, y, c)
    plane = np.linalg.matrix_rank(P.reshape(23 * 23, 23))
    assert plane <= 4  # cos/sin(ω_3 u), cos/sin(ω_7 u)
    x, y = np.meshgrid(np.arange(23), np.arange(23), indexing="ij")
    for c in range(23):  # each class's projection depends on (x, y) only through u = x + y
        assert np.allclose(P[:, :, c], P[(x + y) % 23, 0, c])


def test_logit_correlation_keeps_phase():
    """The right program scores 1; its shift u + 1 only Σ α cos ω_k / Σ α; x − y about 0."""
    task = get_task("modadd", p=23)
    key = [4, 9]
    view = LogitView(fourier_logits(task, key, noise=0.0), task.domain)
    x, y = np.meshgrid(np.arange(23), np.arange(23), indexing="ij")
    right = view.correlation(task.table[task.domain])
    shifted = view.correlation(((x + y + 1) % 23)[task.domain])
    assert np.isclose(right, 1.0)
    expected = np.mean([np.cos(omega(k, 23)) for k in key])  # equal α here
    assert np.isclose(shifted, expected, atol=0.02) and shifted < right - 0.2
    assert abs(view.correlation(((x - y) % 23)[task.domain])) < 0.1


def point(step, train_loss, restricted, excluded, train_acc=1.0, test_acc=0.0):
    return ProgressPoint(step, train_loss, 4.0, train_acc, test_acc, restricted, excluded, 0.5,
                         0.5, 30.0, 2, 1.0, 1.0, 40.0, 3000.0, 40.0, "circuit")  # fmt: skip


class _Found:
    found, chance_loss, key_frequencies, key_span, measures_can_fail = True, 3.0, [3], 0.1, True


class _NotFound(_Found):
    found = False


def test_phases_are_read_off_the_progress_measures():
    """Memorization ends at the memorization step; circuit formation at the first checkpoint
    where the restricted loss is below a tenth of chance and the excluded loss is above the
    train loss; cleanup at the grok step."""
    metrics = [{"step": s, "train_acc": min(1.0, s / 100), "test_acc": 1.0 if s >= 900 else 0.01}
               for s in range(0, 1001, 10)]  # fmt: skip
    points = [point(0, 3.0, 3.0, 3.0), point(300, 0.1, 1.0, 5.0), point(600, 0.05, 0.25, 6.0),
              point(800, 0.05, 0.1, 7.0), point(1000, 0.0, 0.01, 5.0)]  # fmt: skip
    phases = detect_phases(points, metrics, _Found())
    assert (phases.memorization, phases.circuit_formation, phases.cleanup) == (100, 600, 900)


def test_phases_are_absent_without_a_circuit_or_without_grokking():
    metrics = [{"step": s, "train_acc": min(1.0, s / 100), "test_acc": 0.01}
               for s in range(0, 1001, 10)]  # fmt: skip
    points = [point(0, 3.0, 3.0, 3.0), point(500, 0.0, 0.05, 5.0)]
    no_circuit = detect_phases(points, metrics, _NotFound())
    assert (no_circuit.circuit_formation, no_circuit.cleanup) == (None, None)
    assert no_circuit.memorization == 100
    never = detect_phases(points, metrics, _Found())  # formed, but never grokked
    assert never.circuit_formation == 500 and never.cleanup is None
    flat = [point(s, 0.0, 2.9, 3.0) for s in (0, 500, 1000)]  # restricted loss never falls
    assert detect_phases(flat, metrics, _Found()).circuit_formation is None


def test_phases_are_not_read_when_the_key_irreps_keep_almost_everything():
    """With most irreps key, restricting to them restricts nothing: the phases after
    memorization are not read (and the result says why), whatever the curves do."""

    class _Everything(_Found):
        key_frequencies = list(range(1, 10))  # 18 of the 22 functions of u on Z_23
        key_span, measures_can_fail = 18 / 22, False

    metrics = [{"step": s, "train_acc": min(1.0, s / 100), "test_acc": 1.0 if s >= 900 else 0.01}
               for s in range(0, 1001, 10)]  # fmt: skip
    points = [point(0, 3.0, 3.0, 3.0), point(600, 0.05, 0.25, 6.0), point(1000, 0.0, 0.01, 5.0)]
    phases = detect_phases(points, metrics, _Everything())
    assert (phases.memorization, phases.circuit_formation, phases.cleanup) == (100, None, None)
    assert "span" in phases.note


def test_embedding_heavy_frequency_joins_the_key_set():
    """A frequency with little logit variance but a large embedding share is key too."""
    from compare.harmonics import Cyclic
    from compare.logits import embedding_key_frequencies

    share = np.full(49, 1.0 / 48)
    share[0] = 0.0
    share[45] = 5 * share[1]
    share /= share.sum()
    sizes = Cyclic(97).sizes  # Z_97: two functions (cos, sin) per frequency
    assert embedding_key_frequencies(share, exclude=[31], sizes=sizes) == [45]
    assert embedding_key_frequencies(share, exclude=[45], sizes=sizes) == []
    flat = np.r_[0.0, np.full(48, 1.0 / 48)]
    assert embedding_key_frequencies(flat, exclude=[], sizes=sizes) == []
    # a one-dimensional irrep (S5's sign: 1 of 119 functions) is key at a far smaller share
    s5 = np.array([1, 1, 16, 16, 25, 25, 36])  # S5's isotypic dimensions, trivial first
    tiny = np.r_[0.0, 0.05, np.full(5, 0.95 / 5)]
    assert embedding_key_frequencies(tiny, exclude=[], sizes=s5)[-1] == 1
    assert 1 not in embedding_key_frequencies(tiny, exclude=[], sizes=np.r_[1, np.full(6, 2)])


def test_agreeing_on_most_inputs_is_not_implementing_when_the_held_out_pairs_disagree():
    """Trained on 90% of the pairs, a network can agree with f on 99.5% of all inputs while
    getting a twentieth of the other 10% wrong: that is 'partly', not 'implements'."""
    from compare.match import ProgramMatch, verdict

    def row(behaviour, held_out):
        scores = {"behaviour": behaviour, "behaviour_test": held_out, "behaviour_train": 1.0}
        return [ProgramMatch(1, "x - y", "program", 12.0, scores)]

    assert verdict(row(0.995, 0.95), network_test_acc=0.95).grade == "partial"
    assert verdict(row(0.995, 0.995), network_test_acc=0.995).grade == "implements"
    assert verdict(row(0.995, float("nan")), network_test_acc=float("nan")).grade == "implements"
