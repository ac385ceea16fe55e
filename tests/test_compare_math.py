"""The math of compare/ on tensors built by hand: Fourier basis, discrete logs, the logit
model, restricted/excluded loss, η² and the spectrum score."""

from __future__ import annotations

import numpy as np
import pytest

from compare.circuit import Circuit, extract_circuit
from compare.fourier import (
    additive_basis,
    dlog_basis,
    fourier_basis,
    omega,
    primitive_root,
    spectrum,
    spectrum_2d,
)
from compare.logits import Form, fit_form, key_projection
from compare.match import eta_squared, logit_power, spectrum_share
from compare.progress import Phases, detect_phases
from taskcore.table import get_task


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


def train_mask(task, frac=0.3):
    s = task.split(frac)
    mask = np.zeros((task.n, task.n), bool)
    mask[s.x_train, s.y_train] = True
    return mask


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
    circuit = extract_circuit(logits, task, train_mask(task))
    assert circuit.basis == kind and circuit.form == text
    assert sorted(circuit.key_frequencies) == key
    assert circuit.fve > 0.99 and circuit.faithfulness == 1.0 and circuit.found
    assert circuit.restricted_loss <= circuit.full_loss + 1e-3
    assert circuit.excluded_loss > 0.9 * circuit.chance_loss
    assert np.array_equal(circuit.predict()[task.domain], task.table[task.domain])
    assert circuit.dag().number_of_nodes() == 4 + 6 * len(key)
    assert Circuit.from_json(circuit.to_json()).to_json() == circuit.to_json()


def test_noise_has_no_circuit():
    task = get_task("modadd", p=23)
    logits = np.random.default_rng(3).standard_normal((23, 23, 23))
    circuit = extract_circuit(logits, task, train_mask(task))
    assert circuit.key_frequencies == [] and not circuit.found


def test_restricted_projection_keeps_two_directions_per_key_frequency():
    """The pitfall: P_K must be rank 2|K| in the (x, y) plane, not an outer product of masks."""
    logits = np.random.default_rng(4).standard_normal((23, 23, 23))
    fit = fit_form(logits, Form(additive_basis(23), 1, 1))
    P = key_projection(fit, [3, 7], 23)  # (x, y, c)
    plane = np.linalg.matrix_rank(P.reshape(23 * 23, 23))
    assert plane <= 4  # cos/sin(ω_3 u), cos/sin(ω_7 u)
    x, y = np.meshgrid(np.arange(23), np.arange(23), indexing="ij")
    for c in range(23):  # each class's projection depends on (x, y) only through u = x + y
        assert np.allclose(P[:, :, c], P[(x + y) % 23, 0, c])


def test_eta_squared_is_one_for_a_function_of_v_and_small_for_independent():
    rng = np.random.default_rng(0)
    v = rng.integers(0, 23, size=5000)
    a = np.stack([np.cos(omega(3, 23) * v), np.sin(omega(3, 23) * v), v**2], axis=1)
    assert np.isclose(eta_squared(a, v), 1.0)
    noise = rng.standard_normal((5000, 8))
    assert eta_squared(noise, v) < 0.02
    assert eta_squared(np.ones((5000, 3)), v) == 0.0


def test_spectrum_support_of_addition_is_its_diagonal():
    task = get_task("modadd", p=23)
    basis = additive_basis(23)
    power = logit_power(fourier_logits(task, [2, 5]), basis)
    share, support = spectrum_share(power, task.table, basis)
    assert support * 23**3 == 22  # the coefficients (k, k, −k), k ≠ 0
    assert share > 0.99
    x, y = np.meshgrid(np.arange(23), np.arange(23), indexing="ij")
    wrong, _ = spectrum_share(power, (x - y) % 23, basis)
    assert wrong < 0.01


def test_phases_are_read_off_the_curves():
    """Memorization ends at train acc 100%; circuit formation where the test loss has come
    half-way down from its peak to its final value; cleanup at test acc 99%."""
    steps = np.arange(0, 1001, 10)
    train_acc = np.clip(steps / 100, 0, 1)
    test_loss = np.where(steps < 200, 4 + 8 * steps / 200, 12 * np.exp(-(steps - 200) / 100))
    test_loss = np.maximum(test_loss, 0.01)
    test_acc = np.where(steps >= 900, 1.0, np.where(steps > 500, 0.5, 0.01))
    metrics = [
        {"step": int(s), "train_acc": float(a), "test_loss": float(loss), "test_acc": float(t)}
        for s, a, loss, t in zip(steps, train_acc, test_loss, test_acc, strict=True)
    ]
    phases = detect_phases([], metrics)
    half = (12 + 0.01) / 2
    assert phases.memorization == 100
    assert phases.circuit_formation == int(steps[(steps > 200) & (test_loss <= half)][0])
    assert phases.cleanup == 900
    never = [dict(m, test_acc=0.01, test_loss=12.0) for m in metrics]
    assert detect_phases([], never) == Phases(100, None, None)


def test_embedding_heavy_frequency_joins_the_key_set():
    """A frequency with little logit variance but a large embedding share is key too."""
    from compare.logits import embedding_key_frequencies

    share = np.full(49, 1.0 / 48)
    share[0] = 0.0
    share[45] = 5 * share[1]
    share /= share.sum()
    assert embedding_key_frequencies(share, exclude=[31]) == [45]
    assert embedding_key_frequencies(share, exclude=[45]) == []
    flat = np.r_[0.0, np.full(48, 1.0 / 48)]
    assert embedding_key_frequencies(flat, exclude=[]) == []
