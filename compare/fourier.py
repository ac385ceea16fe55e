"""The Fourier basis over Z_n, and the discrete-log basis for multiplicative tasks.

A network that groks modular addition represents each residue x by a few waves,
``cos(ω_k x)`` and ``sin(ω_k x)`` with ``ω_k = 2πk/n``, because those waves turn addition
into multiplication: ``cos(ω(x + y)) = cos ωx cos ωy − sin ωx sin ωy``. To see this we
write activations in the *real Fourier basis* of functions on Z_n:

    e_0(x)   = 1/√n                                     (the constant)
    c_k(x)   = √(2/n) · cos(ω_k x),  s_k(x) = √(2/n) · sin(ω_k x),   k = 1 … ⌊(n−1)/2⌋
    c_{n/2}  = 1/√n · cos(π x) = ±1/√n                  (only when n is even)

These n functions are orthonormal, so any function ``a: Z_n → R^d`` splits into frequency
components, and ``energy(k) = Σ_{basis rows of frequency k} ‖⟨row, a⟩‖²`` sums (Parseval)
to ``Σ_x ‖a(x)‖²``. A spectrum here is that energy per frequency k = 0 … ⌊n/2⌋; the two
rows cos/sin of one frequency always count together, because a rotation of the circle
(a shift of x) mixes them.

Multiplication mod a prime p is addition in disguise: with a primitive root g every
nonzero x is ``g^i`` for one ``i = log x ∈ Z_{p−1}``, and ``x·y = g^(log x + log y)``.
Re-indexing residues by their discrete log (the :class:`~compare.basis.Basis` of kind
``"dlog"``) turns
a network that multiplies into one that adds over Z_{p−1}, and the same Fourier analysis
applies there. 0 has no logarithm: the dlog basis covers the p − 1 nonzero residues only,
and whoever uses it must treat x = 0 (and y = 0, and the class 0) explicitly.
"""

from __future__ import annotations

import numpy as np


def omega(k: int | np.ndarray, m: int) -> float | np.ndarray:
    """ω_k = 2πk / m: the angular frequency of the k-th wave on Z_m."""
    return 2 * np.pi * np.asarray(k) / m


def fourier_basis(m: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The real orthonormal Fourier basis of Z_m, as rows.

    Returns ``(B, freq, names)``: ``B`` is (m, m) with ``B @ B.T = I``; row r is the wave
    ``names[r]`` (``"1"``, ``"cos 3"``, ``"sin 3"``, …) of frequency ``freq[r]``. Rows come in
    the order constant, cos 1, sin 1, cos 2, sin 2, …; ``sin(π x)`` vanishes on Z_m for even
    m, so the last frequency m/2 has a cosine row only.
    """
    x = np.arange(m)
    rows, freq, names = [np.full(m, 1.0)], [0], ["1"]
    for k in range(1, m // 2 + 1):
        rows.append(np.cos(omega(k, m) * x))
        freq.append(k)
        names.append(f"cos {k}")
        if 2 * k != m:
            rows.append(np.sin(omega(k, m) * x))
            freq.append(k)
            names.append(f"sin {k}")
    B = np.stack(rows)
    B /= np.linalg.norm(B, axis=1, keepdims=True)
    return B, np.asarray(freq), names


def waves(k: np.ndarray, u: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``cos(ω_k u)`` and ``sin(ω_k u)`` for every frequency in ``k`` (rows) and value in ``u``.

    ``u`` is any integer array (a residue, or a program's value such as u = x + y); the
    results have shape ``(len(k), *u.shape)``. Unnormalized: these are the features a
    network computes, not basis vectors.
    """
    phase = omega(np.asarray(k), m).reshape(-1, *([1] * np.ndim(u))) * np.asarray(u)
    return np.cos(phase), np.sin(phase)


def spectrum(a: np.ndarray, axis: int = 0) -> np.ndarray:
    """Energy of ``a`` per frequency of Z_m along ``axis`` (m = that axis's length).

    ``energy[k] = Σ_{rows r of frequency k} Σ_rest ⟨B_r, a⟩²``, summed over all other axes,
    for k = 0 … ⌊m/2⌋. Computed with one FFT (Parseval): for 0 < k < m/2 the cos and sin
    rows together hold ``(|â_k|² + |â_{m−k}|²)/m = 2|â_k|²/m`` where ``â_k = Σ_x a(x) e^{−iω_k x}``.
    The energies sum to ``Σ a²``.
    """
    a = np.moveaxis(np.asarray(a, dtype=np.float64), axis, 0)
    m = a.shape[0]
    power = np.abs(np.fft.rfft(a, axis=0)) ** 2 / m
    power = power.reshape(power.shape[0], -1).sum(axis=1)
    power[1 : (m + 1) // 2] *= 2  # k and m − k: both halves of a real wave
    return power


def spectrum_2d(a: np.ndarray) -> np.ndarray:
    """Energy of ``a[x, y, ...]`` per pair of frequencies (k_x, k_y), summed over the rest.

    ``energy[k_x, k_y]`` is the squared norm of ``a``'s component in the span of the
    products ``{cos, sin}(ω_{k_x} x) · {cos, sin}(ω_{k_y} y)``; e.g. a neuron that reads
    ``cos(ω_k(x + y))`` lives entirely at (k, k), one that reads ``cos(ω_k x)`` at (k, 0).
    The entries sum to ``Σ a²``.
    """
    a = np.asarray(a, dtype=np.float64)
    m1, m2 = a.shape[:2]
    power = np.abs(np.fft.fft2(a, axes=(0, 1))) ** 2 / (m1 * m2)
    power = power.reshape(m1, m2, -1).sum(axis=2)
    return fold(fold(power, 0), 1)


def fold(power: np.ndarray, axis: int) -> np.ndarray:
    """Add the FFT bin m − k onto bin k along ``axis``: the real wave of frequency k uses both."""
    power = np.moveaxis(power, axis, 0)
    m = power.shape[0]
    folded = power[: m // 2 + 1].copy()
    folded[1 : (m + 1) // 2] += power[m - 1 : m // 2 : -1]
    return np.moveaxis(folded, 0, axis)


# ---------------------------------------------------------------------------------------
# Discrete logarithms


def primitive_root(p: int) -> int:
    """The smallest g whose powers g^0 … g^(p−2) run through every nonzero residue mod p.

    g is a generator iff ``g^((p−1)/q) ≠ 1`` for every prime q dividing p − 1.
    """
    order = p - 1
    factors = {q for q in range(2, order + 1) if order % q == 0 and _is_prime(q)}
    for g in range(2 if p > 2 else 1, p):
        if all(pow(g, order // q, p) != 1 for q in factors):
            return g
    raise ValueError(f"{p} has no primitive root (is it prime?)")


def _is_prime(q: int) -> bool:
    return q >= 2 and all(q % d for d in range(2, int(q**0.5) + 1))
