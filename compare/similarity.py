"""Do two networks represent the task alike? Linear CKA, mutual nearest neighbours, and the
share of a representation that is a function of the program's node — each with a baseline.

Two runs are seen on the same inputs (every pair (x, y), row x·n + y), so each layer of
each run is a matrix of N rows (inputs) by d features, and two layers can be compared row
by row whatever their widths:

* **linear CKA** (Kornblith et al. 2019). With the columns of X (N × d₁) and Y (N × d₂)
  centered,

      CKA(X, Y) = ‖Yᵀ X‖²_F / (‖Xᵀ X‖_F · ‖Yᵀ Y‖_F),

  1 when Y is X up to a rotation and an overall scale, 0 when no feature of one is
  correlated with any feature of the other. It is the alignment of the two Gram matrices
  XXᵀ and YYᵀ: which inputs the network puts close together.
* **mutual k-nearest-neighbour alignment** (Huh et al. 2024, "The Platonic Representation
  Hypothesis"): each row scaled to unit length, its k nearest rows by cosine similarity,
  N_X(i) and N_Y(i); the score is the mean share of neighbours the two agree on,
  mean_i |N_X(i) ∩ N_Y(i)| / k — 1 when the two networks have the same neighbourhoods.

Neither number means anything alone: a wide layer with few inputs has a high CKA with
*anything* (when d ≥ N every centered Gram matrix of full rank looks alike), and neighbours
agree by chance at k/N. So every score is set beside its **baseline**: the same two
representations with the inputs of one shuffled, ``metric(X, Y[π])`` for a seeded
permutation π — what the score is when the rows no longer correspond.

**Program level.** Two grokked runs may use different frequencies, so their raw features
differ (low CKA), and still run the same algorithm. What they share is the program's node:
for ``x + y`` the value u = x + y. The share of a layer's variance that is a function of u,

    η²_u(H) = Σ_u N_u ‖h̄_u − h̄‖² / Σ_i ‖h_i − h̄‖²,

(h̄_u the mean of the rows with that value of u) is invariant to the frequencies and to any
rotation of the features: a layer that holds u on any circles scores the same. Its baseline
is the same share for the node's values shuffled over the inputs: ≈ (n − 1)/(N − 1), the
share any grouping into n classes explains by chance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from compare.logits import between_share, level_sums
from taskcore.events import K_NEIGHBOURS  # one definition, shared with the glossary
from taskcore.serial import JsonMixin

LOGITS = "logits"  # the name the logits go by beside the cached activations
KNN_SAMPLE = 1024  # inputs the neighbour sets are computed on (a seeded sample)
MAX_ROWS = 4096  # inputs CKA and η² use at most (all n² up to n = 64; a seeded sample above)


def one_thread():
    """The heavy products run in torch on one thread: on a busy machine a thread pool makes
    tiny linear algebra slower, not faster (benchmarks/compare.py)."""
    from compare.network import torch_threads

    return torch_threads(1)


def centered(X: np.ndarray) -> np.ndarray:
    """X (N, d) with each column's mean removed, in float64."""
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    return X - X.mean(axis=0)


def linear_cka(X: np.ndarray, Y: np.ndarray) -> float:
    """‖Yᵀ X‖²_F / (‖Xᵀ X‖_F ‖Yᵀ Y‖_F) on column-centered X, Y (NaN if either is constant)."""
    X, Y = centered(X), centered(Y)
    xx, yy = np.linalg.norm(X.T @ X), np.linalg.norm(Y.T @ Y)
    if xx <= 0 or yy <= 0:
        return float("nan")
    return float(np.linalg.norm(Y.T @ X) ** 2 / (xx * yy))


def reduced(X: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """X (N, d) centered and rotated onto its principal axes, with the axes of (numerically)
    zero variance dropped: (N, r), r = rank. The Gram matrix XXᵀ — all CKA sees — is
    unchanged, so CKA is too; a layer that is a function of x and of y apart (rank ≤ 2(n−1))
    or has few inputs becomes much narrower."""
    X = torch.from_numpy(centered(X))
    evals, evecs = torch.linalg.eigh(X.T @ X)
    keep = evals > tol * max(float(evals.max()), 0.0)
    return (X @ evecs[:, keep]).numpy()


def cka_matrix(reps: list[np.ndarray], perm: np.ndarray | None = None) -> np.ndarray:
    """CKA between every two of ``reps`` (each (N, d_i), same N): (R, R), symmetric.

    With ``perm`` the second of each pair has its rows permuted, ``CKA(X_i, X_j[perm])``:
    the shuffled-input baseline (its diagonal is each representation against itself
    shuffled; the pair i < j is computed and mirrored). Each representation is first
    :func:`reduced` (exact), and the products run in float32: N·(Σ r)²/2 multiplications.
    """
    with one_thread():
        Xs = [reduced(X) for X in reps]
        self_norm = [float(np.sqrt(((X**2).sum(axis=0) ** 2).sum())) for X in Xs]  # ‖XᵀX‖_F
        Xs = [torch.from_numpy(X.astype(np.float32)) for X in Xs]
        R = len(Xs)
        out = np.full((R, R), np.nan)
        inverse = None if perm is None else torch.from_numpy(np.argsort(perm))
        for i in range(R):
            rest = [j for j in range(i, R) if self_norm[j] > 0]
            if not self_norm[i] > 0 or not rest:
                continue
            Z = torch.cat([Xs[j] for j in rest], dim=1)
            left = Xs[i] if inverse is None else Xs[i][inverse]  # Xᵢ[π⁻¹]ᵀ Xⱼ = Xᵢᵀ Xⱼ[π]
            block = (left.T @ Z).double()  # (r_i, Σ r_j)
            start = 0
            for j in rest:
                width = Xs[j].shape[1]
                value = float((block[:, start:start + width] ** 2).sum())
                out[i, j] = out[j, i] = value / (self_norm[i] * self_norm[j])
                start += width
    return out


def knn_sets(X: np.ndarray, k: int = K_NEIGHBOURS) -> np.ndarray:
    """(N, k): the indices of each row's k nearest other rows by cosine similarity (a
    deterministic choice among ties)."""
    with one_thread():
        U = torch.from_numpy(np.asarray(X, dtype=np.float32).reshape(len(X), -1))
        U = torch.nn.functional.normalize(U, dim=1)
        S = U @ U.T
        S.fill_diagonal_(-float("inf"))
        k = min(k, len(X) - 1)
        return torch.topk(S, k, dim=1).indices.numpy()


def mutual_knn(A: np.ndarray, B: np.ndarray) -> float:
    """mean_i |A(i) ∩ B(i)| / k for two (N, k) neighbour tables of the same inputs."""
    N, k = A.shape
    hits = (A[:, :, None] == B[:, None, :]).any(axis=2).sum(axis=1)
    return float(hits.mean() / k)


def relabel(B: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """The neighbour table of Y[perm] from Y's table B: row i of Y[perm] is row perm[i] of
    Y, whose neighbours j are rows perm⁻¹[j] of Y[perm]."""
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(len(perm))
    return inverse[B[perm]]


def knn_matrix(tables: list[np.ndarray], perm: np.ndarray | None = None) -> np.ndarray:
    """Mutual k-NN alignment between every two neighbour tables (baseline with ``perm``)."""
    R = len(tables)
    out = np.zeros((R, R))
    for i in range(R):
        for j in range(R):
            B = tables[j] if perm is None else relabel(tables[j], perm)
            out[i, j] = mutual_knn(tables[i], B)
    return out


def node_share(H: np.ndarray, v: np.ndarray) -> float:
    """η²_v(H): the share of H's variance (rows = inputs) that is a function of the node
    value ``v`` (one integer per row): Σ_v N_v ‖h̄_v − h̄‖² / Σ_i ‖h_i − h̄‖²."""
    H = centered(H)
    total = float((H**2).sum())
    if total <= 0:
        return float("nan")
    labels, inverse, counts = np.unique(np.asarray(v).reshape(-1), return_inverse=True,
                                        return_counts=True)  # fmt: skip
    return between_share(level_sums(H, inverse, len(labels)), counts, total)


def jaccard(a, b) -> float:
    """|A ∩ B| / |A ∪ B| (1 for two empty sets: they agree)."""
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 1.0


def jaccard_matrix(sets: list[list[int]]) -> np.ndarray:
    return np.array([[jaccard(a, b) for b in sets] for a in sets])


def jaccard_baseline(sets: list[list[int]], universe: int, seed: int = 0,
                     draws: int = 200) -> np.ndarray:  # fmt: skip
    """The Jaccard index expected for random sets of the same sizes drawn from
    ``universe`` frequencies (1 … universe), for every two sets: the frequencies'
    labels shuffled. Mean over ``draws`` seeded draws."""
    rng = np.random.default_rng([seed, 0x7A55])
    R = len(sets)
    out = np.zeros((R, R))
    if universe <= 0:
        return out + np.nan
    for _ in range(draws):
        drawn = [rng.choice(universe, size=min(len(s), universe), replace=False) for s in sets]
        out += jaccard_matrix([list(d) for d in drawn])
    return out / draws


@dataclass(frozen=True)
class Alignment(JsonMixin):
    """One metric on one layer: the runs × runs matrix and its shuffled-input baseline.

    ``runs`` are the indices (into the align result's run list) of the runs that have this
    layer; ``matrix[a][b]`` compares ``runs[a]`` with ``runs[b]``. ``mean`` and
    ``baseline_mean`` average the off-diagonal entries (the pairs of distinct runs).
    """

    layer: str
    metric: str  # "cka" | "mutual_knn" | "jaccard" | "node_share"
    runs: list[int]
    matrix: list[list[float]]
    baseline: list[list[float]]
    mean: float = float("nan")
    baseline_mean: float = float("nan")
    rows: int = 0  # inputs the metric was computed on
    note: str = ""
    blocks: dict[str, float] = field(default_factory=dict)  # "transformer×mlp" → mean
    baseline_blocks: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, layer: str, metric: str, runs: list[int], matrix: np.ndarray,
           baseline: np.ndarray, models: list[str] | None = None, rows: int = 0,
           note: str = "") -> Alignment:  # fmt: skip
        def rounded(M):
            return [[round(float(v), 4) if np.isfinite(v) else float("nan") for v in row]
                    for row in np.asarray(M)]  # fmt: skip

        blocks, baseline_blocks = {}, {}
        if models is not None:
            kinds = list(dict.fromkeys(models))
            for a in kinds:
                for b in kinds[kinds.index(a):]:
                    blocks[f"{a}×{b}"] = off_diagonal_mean(matrix, models, a, b)
                    baseline_blocks[f"{a}×{b}"] = off_diagonal_mean(baseline, models, a, b)
        return cls(layer, metric, list(runs), rounded(matrix), rounded(baseline),
                   off_diagonal_mean(matrix), off_diagonal_mean(baseline), rows, note,
                   blocks, baseline_blocks)  # fmt: skip


def off_diagonal_mean(M: np.ndarray, models: list[str] | None = None, a: str | None = None,
                      b: str | None = None) -> float:  # fmt: skip
    """Mean of M[i, j] over i ≠ j (only rows of model ``a`` and columns of model ``b``)."""
    M = np.asarray(M, dtype=np.float64)
    R = len(M)
    mask = ~np.eye(R, dtype=bool)
    if models is not None:
        rows = np.array([m == a for m in models])
        cols = np.array([m == b for m in models])
        mask &= rows[:, None] & cols[None, :]
    values = M[mask]
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else float("nan")


def input_sample(total: int, size: int, seed: int) -> np.ndarray:
    """Sorted indices of ``size`` inputs out of ``total`` (all of them if there are fewer)."""
    if total <= size:
        return np.arange(total)
    rng = np.random.default_rng([seed, 0x5A3])
    return np.sort(rng.choice(total, size=size, replace=False))


def shuffle(total: int, seed: int) -> np.ndarray:
    """The seeded permutation of the inputs that every baseline uses."""
    return np.random.default_rng([seed, 0x5F1]).permutation(total)


def align_layer(layer: str, reps: list[np.ndarray], runs: list[int], models: list[str],
                seed: int = 0) -> list[Alignment]:  # fmt: skip
    """CKA and mutual k-NN of one layer across runs, each with its shuffled baseline.

    ``reps`` are the runs' activations on the same inputs (rows), already restricted to at
    most :data:`MAX_ROWS`; the neighbour sets use a sample of :data:`KNN_SAMPLE` of them.
    """
    N = len(reps[0])
    perm = shuffle(N, seed)
    cka = Alignment.of(layer, "cka", runs, cka_matrix(reps), cka_matrix(reps, perm), models,
                       rows=N)  # fmt: skip
    sample = input_sample(N, KNN_SAMPLE, seed)
    tables = [knn_sets(X[sample]) for X in reps]
    perm_k = shuffle(len(sample), seed)
    knn = Alignment.of(layer, "mutual_knn", runs, knn_matrix(tables), knn_matrix(tables, perm_k),
                       models, rows=len(sample), note=f"k = {K_NEIGHBOURS}")  # fmt: skip
    return [cka, knn]
